/* The form editor page: form-js's editor (window.MadamFormEditor, bundled from web/static/src/form-editor.js)
   limited to the components Madam's renderer supports, the schema kept in the form's JSON field that is saved
   into the draft, and a live preview drawn by the server (the same renderer the expert's cartable uses). */
(function () {
  "use strict";

  function init(root) {
    var options = JSON.parse(document.getElementById("form-editor-options").textContent);
    var t = options.texts;
    var area = root.querySelector("textarea[name=schema]");
    var canvas = root.querySelector("[data-form-editor-canvas]");
    var preview = root.querySelector("[data-form-preview]");
    var problems = root.querySelector("[data-form-problems]");
    var status = root.querySelector("[data-form-status]");
    var details = root.querySelector("[data-form-json]");
    var editor = null;
    var timer = null;
    var importing = false;  // an import from the JSON field must not rewrite the field under the analyst

    function say(text, kind) {
      status.textContent = text || "";
      status.className = "small text-" + (kind || "body-secondary");
    }

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

    function later() { clearTimeout(timer); timer = setTimeout(refresh, 400); }

    function fromEditor() {
      if (importing) { return; }
      area.value = JSON.stringify(editor.getSchema(), null, 2);
      say(t.unsaved, "warning");
      later();
    }

    function open(schema) {
      var foreign = window.MadamFormEditor.typesOf(schema).filter(function (type) {
        return options.supported.indexOf(type) === -1;
      });
      if (foreign.length) {  // refused here as the server refuses it: the analyst fixes the JSON
        details.open = true;
        say(t.unsupported.replace("%(types)s", foreign.join(", ")), "danger");
        root.dataset.editor = "refused";
        return Promise.resolve(null);
      }
      importing = true;
      var ready = editor ? editor.importSchema(schema).then(function () { return editor; })
        : window.MadamFormEditor.create(canvas, schema, options);
      return ready.then(function (created) {
        setTimeout(function () { importing = false; }, 0);
        if (!editor) {
          editor = created;
          window.madamFormEditor = editor;  // for tests and the browser console
          editor.on("changed", fromEditor);
        }
        root.dataset.editor = "ready";
        return editor;
      }).catch(function (error) {
        importing = false;
        details.open = true;
        say(t.unreadable.replace("%(error)s", error.message || String(error)), "danger");
        root.dataset.editor = "failed";
      });
    }

    area.addEventListener("input", function () {
      var schema;
      try { schema = JSON.parse(area.value); } catch (error) { say(t.notJson, "danger"); return; }
      say(t.unsaved, "warning");
      later();
      open(schema);
    });

    var initial = {};
    try { initial = JSON.parse(area.value || "{}"); } catch (error) { details.open = true; }
    if (!initial.type) { initial.type = "default"; }
    if (!Array.isArray(initial.components)) { initial.components = []; }
    open(initial);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-form-editor]");
    if (root && window.MadamFormEditor) { init(root); }
  });
})();
