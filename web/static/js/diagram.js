/* Draws a procedure's diagram with bpmn-js and marks the current, passed and failed steps,
   or colours steps by how slow they are (data-heat: {taskId: 0..1}). No inline scripts (CSP). */
(function () {
  "use strict";

  function ids(el, name) {
    return (el.dataset[name] || "").split(",").filter(Boolean);
  }

  function mark(canvas, registry, list, marker) {
    list.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marker); }
    });
  }

  function draw(el) {
    if (!window.BpmnJS) { return; }
    var viewer = new window.BpmnJS({ container: el, height: 420 });
    fetch(el.dataset.src, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        if (window.MadamRtl) { window.MadamRtl.attach(el); }  // Persian labels read right to left
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        mark(canvas, registry, ids(el, "passed"), "madam-passed");
        mark(canvas, registry, ids(el, "current"), "madam-current");
        mark(canvas, registry, ids(el, "failed"), "madam-failed");
        if (el.dataset.heat) {
          var heat = JSON.parse(el.dataset.heat);
          Object.keys(heat).forEach(function (id) {
            var level = Math.min(4, Math.floor(heat[id] * 5));
            if (registry.get(id)) { canvas.addMarker(id, "madam-heat-" + level); }
          });
        }
        el.dataset.ready = "true";
      })
      .catch(function (error) {
        el.textContent = el.dataset.error || String(error);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".madam-diagram[data-src]").forEach(draw);
  });
})();
