// A billing run's page: while the run is running, its progress is read every two seconds and shown;
// when it stops running, the page is reloaded to show the totals and the exceptions.
(function () {
  "use strict";
  const box = document.querySelector("[data-run-progress]");
  if (!box || box.dataset.status !== "running") return;
  const persian = document.documentElement.lang === "fa";
  const digits = (value) => {
    const text = String(value);
    return persian ? text.replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]) : text;
  };
  const bar = box.querySelector("[data-bar]");
  async function tick() {
    let state;
    try {
      const response = await fetch(box.dataset.runProgress, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      state = await response.json();
    } catch (error) {
      return;
    }
    for (const key of ["processed", "billed", "skipped", "rate", "eta_seconds", "status_label"]) {
      const field = box.querySelector(`[data-field="${key}"]`);
      if (field) field.textContent = state[key] === null ? "—" : (key === "status_label" ? state[key] : digits(state[key]));
    }
    if (bar && state.total) {
      bar.setAttribute("aria-valuenow", state.processed);
      bar.firstElementChild.style.width = `${Math.round((100 * state.processed) / state.total)}%`;
    }
    if (state.status !== "running") window.location.reload();
  }
  setInterval(tick, 2000);
})();
