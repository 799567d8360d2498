/* User-task forms, progressively enhanced (the forms work without this file):
 * - a Jalali date picker (@majidh1/jalalidatepicker) on inputs marked data-jdp; typing still works;
 * - lookups as you type: an input with data-lookup-url fetches `<url>?q=<text>` (a JSON list of
 *   {id, label}) and offers the answers in its <datalist>; the chosen option puts the id in the input;
 * - a rial amount shown with thousands separators in Persian digits beside its input.
 * No inline scripts: the pages' Content-Security-Policy allows scripts from this site only. */
(function () {
  "use strict";

  var PERSIAN = "۰۱۲۳۴۵۶۷۸۹";

  function toAscii(text) {
    return text.replace(/[۰-۹]/g, function (d) { return String(PERSIAN.indexOf(d)); })
      .replace(/[٠-٩]/g, function (d) { return String(d.charCodeAt(0) - 0x0660); });
  }

  function toPersian(text) {
    return text.replace(/[0-9]/g, function (d) { return PERSIAN[Number(d)]; });
  }

  function startDatePicker() {
    if (!window.jalaliDatepicker || !document.querySelector("input[data-jdp]")) {
      return;
    }
    window.jalaliDatepicker.startWatch({
      selector: "input[data-jdp]",
      persianDigits: true,
      autoReadOnlyInput: false,
      showCloseBtn: true,
      zIndex: 1060
    });
  }

  function lookup(input) {
    var url = input.getAttribute("data-lookup-url");
    var list = document.getElementById(input.getAttribute("list"));
    var status = document.getElementById(input.id + "-status");
    var timer = null;
    var pending = null;
    if (!url || !list || !window.fetch) {
      return;
    }
    function show(items) {
      list.replaceChildren();
      items.slice(0, 20).forEach(function (item) {
        if (!item || item.id === undefined || item.id === null) {
          return;
        }
        var option = document.createElement("option");
        option.value = String(item.id);
        option.label = String(item.label || item.id);
        option.textContent = String(item.label || item.id);
        list.appendChild(option);
      });
      if (status) {
        status.textContent = list.children.length ? "" : (status.getAttribute("data-empty") || "");
      }
    }
    function search() {
      var text = input.value.trim();
      if (text.length < 2) {
        return;
      }
      if (pending && window.AbortController) {
        pending.abort();
      }
      pending = window.AbortController ? new AbortController() : null;
      var address = url + (url.indexOf("?") >= 0 ? "&" : "?") + "q=" + encodeURIComponent(text);
      fetch(address, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: pending ? pending.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : [];
      }).then(function (items) {
        show(Array.isArray(items) ? items : []);
      }).catch(function () {
        /* no search (offline, not built yet, aborted): the typed number still works */
      });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 250);
    });
  }

  function rial(input) {
    var preview = document.getElementById(input.id + "-preview");
    if (!preview) {
      return;
    }
    function update() {
      var digits = toAscii(input.value).replace(/[\s,٬،'_]/g, "").replace(/(ریال|IRR)$/i, "");
      if (!/^\d{1,18}$/.test(digits)) {
        preview.textContent = "";
        return;
      }
      var grouped = digits.replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, "٬");
      var persian = document.documentElement.lang !== "en";
      preview.textContent = (persian ? toPersian(grouped) : grouped.replace(/٬/g, ",")) + " " +
        (preview.getAttribute("data-unit") || "");
    }
    input.addEventListener("input", update);
    update();
  }

  function start() {
    startDatePicker();
    document.querySelectorAll("input[data-lookup-url]").forEach(lookup);
    document.querySelectorAll("input[data-rial]").forEach(rial);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
