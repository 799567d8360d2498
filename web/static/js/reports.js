/* Reports, progressively enhanced (the pages work without this file):
 * - the chart: a <canvas data-chart-url> is drawn with Chart.js from the JSON its URL answers
 *   ({type, labels, datasets: [{label, data}], unit, stacked, horizontal}); its `totals` ({column: sum}), when
 *   given, fill the totals row's cells the page left to it ([data-total-pending]);
 * - the Jalali date picker on the filter's dates (inputs marked data-jdp);
 * - the page size select submits its form when changed;
 * - the print view's button prints;
 * - an export job's page follows its progress and reloads when the file is ready.
 * No inline scripts: the Content-Security-Policy allows scripts from this site only. */
(function () {
  "use strict";

  var rtl = document.documentElement.getAttribute("dir") === "rtl";
  var locale = rtl ? "fa-IR" : "en-US";

  function formatNumber(value, unit) {
    var options = unit === "hours" ? { maximumFractionDigits: 1 } : { maximumFractionDigits: 0 };
    return Number(value).toLocaleString(locale, options);
  }

  function fillTotals(totals) {
    document.querySelectorAll("[data-total-pending]").forEach(function (span) {
      var key = span.parentElement.getAttribute("data-column");
      if (!Object.prototype.hasOwnProperty.call(totals, key)) {
        return;
      }
      var kind = span.getAttribute("data-kind");
      var value = kind === "hours" ? totals[key] / 3600 : totals[key];
      var text = formatNumber(value, kind);
      span.textContent = kind === "rials" ? text + " " + span.getAttribute("data-unit") : text;
      span.removeAttribute("data-total-pending");
      span.removeAttribute("title");
      span.className = "";
      span.setAttribute("data-total-filled", "true");
    });
  }

  function drawChart(canvas) {
    if (!window.Chart || !window.fetch) {
      return;
    }
    fetch(canvas.getAttribute("data-chart-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (spec) {
        if (spec && spec.totals) {
          fillTotals(spec.totals);
        }
        if (!spec || !spec.labels || !spec.labels.length) {
          var note = document.createElement("p");
          note.className = "text-body-secondary m-0";
          note.textContent = canvas.getAttribute("data-empty") || "";
          canvas.replaceWith(note);
          return;
        }
        var horizontal = Boolean(spec.horizontal);
        var valueAxis = horizontal ? "x" : "y";
        var scales = { x: { stacked: Boolean(spec.stacked) }, y: { stacked: Boolean(spec.stacked) } };
        scales[valueAxis].ticks = { callback: function (value) { return formatNumber(value, spec.unit); } };
        if (spec.unit === "count") {
          scales[valueAxis].ticks.precision = 0;  // whole requests, not quarters of them
        }
        if (!horizontal) {
          scales.x.reverse = rtl;
        }
        if (horizontal) {
          canvas.parentElement.style.height = Math.max(240, 32 * spec.labels.length + 80) + "px";
        }
        new window.Chart(canvas, {
          type: spec.type || "bar",
          data: { labels: spec.labels, datasets: spec.datasets },
          options: {
            indexAxis: horizontal ? "y" : "x",
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            locale: locale,
            scales: scales,
            plugins: {
              legend: { display: spec.datasets.length > 1, rtl: rtl },
              tooltip: {
                rtl: rtl,
                callbacks: {
                  label: function (item) {
                    return item.dataset.label + ": " + formatNumber(item.raw, spec.unit);
                  }
                }
              }
            }
          }
        });
        canvas.setAttribute("data-drawn", "true");
      });
  }

  function followExport(section) {
    var url = section.getAttribute("data-progress-url");
    var text = section.querySelector("[data-progress-text]");
    var bar = section.querySelector("[data-progress-bar]");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          if (state.finished) {
            window.location.reload();
            return;
          }
          var percent = state.total_rows ? Math.floor(100 * state.done_rows / state.total_rows) : 0;
          if (bar) {
            bar.style.width = percent + "%";
            bar.parentElement.setAttribute("aria-valuenow", String(percent));
          }
          if (text) {
            text.textContent = text.textContent.replace(/^([^:]*:)[^]*$/, "$1 " +
              formatNumber(state.done_rows) + " / " + formatNumber(state.total_rows));
          }
          window.setTimeout(poll, 2000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1000);
  }

  function start() {
    document.querySelectorAll("canvas[data-chart-url]").forEach(drawChart);
    document.querySelectorAll("[data-progress-url]").forEach(followExport);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    if (window.jalaliDatepicker && document.querySelector("input[data-jdp]")) {
      window.jalaliDatepicker.startWatch({
        selector: "input[data-jdp]", persianDigits: true, autoReadOnlyInput: false, showCloseBtn: true, zIndex: 1060
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
