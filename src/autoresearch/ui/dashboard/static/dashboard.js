/* autoresearch dashboard: charts, table controls, live refresh. No inline script anywhere:
   data reaches the page as JSON (fetched, or in <script type="application/json">). */
(function () {
  "use strict";

  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const refreshMs = () => 1000 * (parseFloat(document.body.dataset.refresh) || 5);
  // Statuses without a score: failures, and runs never judged (starved by the machine, or
  // a duplicate of earlier code).
  const FAILED = ["invalid", "crashed", "timeout", "oom", "diverged", "interfered", "duplicate"];
  // Scored, but run to measure an effect (an ablation), never to compete.
  const STATUSES = ["kept", "discarded", "measured", "running", "pending", ...FAILED];
  const colour = (status) => css("--" + status) || css("--muted");

  function baseOptions(xLabel, yLabel, integerX) {
    return {
      animation: false, responsive: true, maintainAspectRatio: false, normalized: true,
      color: css("--muted"),
      scales: {
        x: { type: "linear", title: { display: !!xLabel, text: xLabel, color: css("--muted") },
             ticks: { color: css("--muted"), precision: integerX ? 0 : undefined },
             grid: { color: "#21262d" } },
        y: { title: { display: !!yLabel, text: yLabel, color: css("--muted") },
             ticks: { color: css("--muted") }, grid: { color: "#21262d" } },
      },
      plugins: { legend: { labels: { color: css("--text"), usePointStyle: true, boxHeight: 7 } } },
    };
  }

  function jsonFrom(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : [];
  }

  // -- metric progression ------------------------------------------------------------------
  function progressDatasets(data) {
    const sets = [];
    const byStatus = {};
    for (const p of data.points) (byStatus[p.status] ||= []).push(p);
    for (const p of data.failed) (byStatus[p.status] ||= []).push(p);
    for (const status of STATUSES) {
      const points = byStatus[status];
      if (!points) continue;
      const failed = FAILED.includes(status);
      sets.push({
        type: "scatter", label: status + (failed ? " (no score)" : ""), data: points,
        backgroundColor: colour(status), borderColor: colour(status),
        pointStyle: failed ? "crossRot" : "circle", pointRadius: failed ? 5 : 3.5,
        pointHoverRadius: 7, borderWidth: failed ? 2 : 1, order: 1,
      });
    }
    if (data.best.length) {
      sets.push({
        // "before": the line stays at the old best up to the experiment that beat it.
        type: "line", label: "best so far", data: data.best, stepped: "before",
        borderColor: css("--kept"), backgroundColor: css("--kept"), borderWidth: 2,
        pointRadius: 0, order: 0,
      });
    }
    return sets;
  }

  function initProgress(canvas) {
    if (Chart.getChart(canvas)) return;
    const options = baseOptions("experiment", "", true);
    options.plugins.tooltip = {
      callbacks: {
        label(ctx) {
          const p = ctx.raw;
          if (ctx.dataset.type === "line") return "best so far " + p.y.toFixed(4);
          const value = p.failure ? p.failure : p.y.toFixed(4);
          return "#" + p.x + " " + p.status + ": " + value + " — " + p.label;
        },
      },
    };
    options.onClick = (event, elements, chart) => {
      const hit = elements.find((el) => chart.data.datasets[el.datasetIndex].type === "scatter");
      if (hit) window.location.href = "/experiments/" + chart.data.datasets[hit.datasetIndex].data[hit.index].id;
    };
    const chart = new Chart(canvas, { type: "scatter", data: { datasets: [] }, options });
    const load = () => fetch(canvas.dataset.progress, { cache: "no-store" })
      .then((r) => r.json())
      .then((data) => {
        chart.options.scales.y.title = { display: true, text: data.metric + (data.direction === "min" ? " ↓" : " ↑"), color: css("--muted") };
        chart.data.datasets = progressDatasets(data);
        chart.update("none");
        canvas.dataset.points = String(data.points.length + data.failed.length);
      })
      .catch(() => {});  // the next poll retries; a run restarting is not an error
    load();
    setInterval(load, refreshMs());
  }

  // -- loss curves and knob scatters -------------------------------------------------------
  function initLoss(canvas) {
    if (Chart.getChart(canvas)) return;
    const palette = ["#58a6ff", "#3fb950", "#d29922", "#a371f7", "#ff7b72", "#39c5cf"];
    const curves = jsonFrom(canvas.dataset.lossCurves);
    new Chart(canvas, {
      type: "line",
      data: { datasets: curves.map((c, i) => ({
        label: "seed " + c.seed, data: c.points, borderColor: palette[i % palette.length],
        backgroundColor: palette[i % palette.length], borderWidth: 1.5,
        pointRadius: c.points.length > 40 ? 0 : 2.5 })) },
      options: baseOptions("step", "training loss", true),
    });
  }

  function initScatter(canvas) {
    if (Chart.getChart(canvas)) return;
    const points = jsonFrom(canvas.dataset.scatter);
    const byStatus = {};
    for (const p of points) (byStatus[p.status] ||= []).push(p);
    const options = baseOptions(canvas.dataset.xLabel, canvas.dataset.yLabel);
    const xs = points.map((p) => p.x).filter((x) => x > 0);
    if (xs.length === points.length && xs.length && Math.max(...xs) / Math.min(...xs) > 50) {
      options.scales.x.type = "logarithmic";
    }
    options.plugins.legend.display = false;
    new Chart(canvas, {
      type: "scatter",
      data: { datasets: Object.entries(byStatus).map(([status, data]) => ({
        label: status, data, backgroundColor: colour(status), pointRadius: 3 })) },
      options,
    });
  }

  function init(root) {
    root.querySelectorAll("canvas[data-progress]").forEach(initProgress);
    root.querySelectorAll("canvas[data-loss-curves]").forEach(initLoss);
    root.querySelectorAll("canvas[data-scatter]").forEach(initScatter);
  }

  // -- table controls: sorting and paging go through the filter form, so polls keep them ---
  function filters() { return document.getElementById("filters"); }

  function submitFilters(form) {
    const params = new URLSearchParams(new FormData(form));
    history.replaceState(null, "", "?" + params.toString());
    htmx.trigger(form, "change");
  }

  document.addEventListener("click", (event) => {
    const form = filters();
    const sort = event.target.closest("[data-sort]");
    const page = event.target.closest("[data-page]");
    if (!form || !(sort || page)) return;
    if (sort) {
      form.elements.sort.value = sort.dataset.sort;
      form.elements.order.value = sort.dataset.order;
      form.elements.page.value = "1";
    } else {
      form.elements.page.value = page.dataset.page;
    }
    submitFilters(form);
  });

  document.addEventListener("change", (event) => {
    const form = filters();
    if (form && event.target.form === form && event.target.tagName === "SELECT") {
      form.elements.page.value = "1";
      history.replaceState(null, "", "?" + new URLSearchParams(new FormData(form)).toString());
    }
    const nav = event.target.closest("select[data-navigate]");
    if (nav) {  // an experiment belongs to one study: switching leaves its page
      const path = window.location.pathname.startsWith("/experiments/") ? "/" : window.location.pathname;
      window.location.href = path + nav.value;
    }
  }, true);

  function waitForStudy(node) {
    const poll = () => fetch(node.dataset.waitForStudy, { cache: "no-store" })
      .then((r) => r.json())
      .then((data) => { if (data.study) window.location.reload(); })
      .catch(() => {});
    setInterval(poll, refreshMs());
  }

  document.addEventListener("DOMContentLoaded", () => {
    htmx.onLoad(init);
    document.querySelectorAll("[data-wait-for-study]").forEach(waitForStudy);
  });
})();
