/* The form editor: a form-js schema as JSON, components limited to what Madam's renderer supports, and a live
   preview rendered by the server (the same renderer the expert's cartable uses). */
(function () {
  "use strict";

  var SKELETONS = {
    textfield: { label: "متن", key: "text" }, textarea: { label: "توضیح", key: "description" },
    number: { label: "عدد", key: "amount" }, checkbox: { label: "تأیید", key: "confirmed" },
    checklist: { label: "گزینه‌ها", key: "choices", values: [{ label: "یک", value: "one" }] },
    radio: { label: "انتخاب", key: "choice", values: [{ label: "بله", value: "yes" }, { label: "خیر", value: "no" }] },
    select: { label: "فهرست", key: "option", values: [{ label: "یک", value: "one" }] },
    datetime: { dateLabel: "تاریخ", key: "date", subtype: "date" }, text: { text: "متن راهنما" },
    group: { label: "گروه", components: [] }, separator: {}, spacer: {}
  };

  function init(root) {
    var area = root.querySelector("textarea[name=schema]");
    var preview = root.querySelector("[data-form-preview]");
    var problems = root.querySelector("[data-form-problems]");
    var timer = null;

    function refresh() {
      fetch(root.dataset.previewUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf },
        body: JSON.stringify({ schema: area.value })
      }).then(function (response) { return response.json(); }).then(function (result) {
        preview.innerHTML = result.html;  // the server's own escaped rendering of the schema
        problems.textContent = "";
        result.problems.forEach(function (message) {
          var item = document.createElement("li");
          item.dir = "ltr";
          item.textContent = message;
          problems.appendChild(item);
        });
        root.dataset.previewed = String((Number(root.dataset.previewed) || 0) + 1);
      });
    }

    area.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 400); });
    root.querySelectorAll("[data-add-component]").forEach(function (button) {
      button.addEventListener("click", function () {
        var kind = root.querySelector("[data-component-type]").value;
        var schema;
        try { schema = JSON.parse(area.value || "{}"); } catch (error) { return; }
        schema.components = schema.components || [];
        var component = Object.assign({ type: kind }, JSON.parse(JSON.stringify(SKELETONS[kind] || { key: kind.replace(/\W/g, "_") })));
        if (component.key) {
          var used = {};
          schema.components.forEach(function (c) { used[c.key] = true; });
          var base = component.key;
          for (var n = 2; used[component.key]; n++) { component.key = base + n; }
        }
        schema.components.push(component);
        area.value = JSON.stringify(schema, null, 2);
        refresh();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-form-editor]");
    if (root) { init(root); }
  });
})();
