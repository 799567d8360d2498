/* Read-only diagrams of the workbench (a version, a diff, a sandbox run): bpmn-js's viewer with markers given
   as data-markers = {elementId: "class other-class"} and Persian labels fixed by MadamRtl. No inline scripts. */
(function () {
  "use strict";

  function draw(el) {
    if (!window.BpmnJS) { return; }
    var viewer = new window.BpmnJS({ container: el, height: el.dataset.height || 460,
      textRenderer: { defaultStyle: { fontFamily: "Vazirmatn, Arial, sans-serif" },
                      externalStyle: { fontFamily: "Vazirmatn, Arial, sans-serif" } } });
    if (window.MadamRtl) { window.MadamRtl.attach(el); }
    fetch(el.dataset.src, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        var markers = el.dataset.markers ? JSON.parse(el.dataset.markers) : {};
        Object.keys(markers).forEach(function (id) {
          if (!registry.get(id)) { return; }
          markers[id].split(" ").filter(Boolean).forEach(function (marker) { canvas.addMarker(id, marker); });
        });
        document.querySelectorAll("[data-view-select]").forEach(function (link) {
          link.addEventListener("click", function () {
            var element = registry.get(link.dataset.viewSelect);
            if (element) { canvas.scrollToElement(element); }
          });
        });
        el.dataset.ready = "true";
      })
      .catch(function (error) { el.textContent = el.dataset.error || String(error); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".madam-view[data-src]").forEach(draw);
  });
})();
