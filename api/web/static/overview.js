// The overview's charts (Chart.js, served from /static/vendor, no CDN). The view is a
// server-rendered fragment put in place with innerHTML, where scripts do not run: the
// console calls window.bwOverview(root) after rendering it, and this reads the figures
// the server embedded (#ov-data, texts already in the reader's language) and draws.
// This file holds no text of its own, so it has nothing to translate.
(function () {
  "use strict";
  var drawn = [];  // the charts of the last render, destroyed before the next

  function colour(root, name, fallback) {
    var value = getComputedStyle(root).getPropertyValue(name).trim();
    return value || fallback;
  }

  function bar(canvas, labels, datasets, axis, xAxis, horizontal) {
    return new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
        scales: {
          x: { stacked: !horizontal, title: { display: !!(horizontal ? axis : xAxis), text: horizontal ? axis : xAxis },
               ticks: horizontal ? { precision: 0 } : {}, beginAtZero: true },
          y: { stacked: !horizontal, title: { display: !!(horizontal ? "" : axis), text: horizontal ? "" : axis },
               ticks: horizontal ? {} : { precision: 0 }, beginAtZero: true }
        }
      }
    });
  }

  function draw(root) {
    drawn.forEach(function (chart) { chart.destroy(); });
    drawn = [];
    var source = root.querySelector("#ov-data");
    if (!source || typeof window.Chart !== "function") return drawn;  // the tables still say it all
    var data = JSON.parse(source.textContent);
    var violations = root.querySelector("#ov-violations");
    if (violations && data.violations.counts.length) {
      drawn.push(bar(violations, data.violations.labels, [{
        label: data.violations.series,
        data: data.violations.counts,
        backgroundColor: colour(root, "--p2", "#e07b00"),
        maxBarThickness: 28
      }], data.violations.axis, "", true));
    }
    var week = root.querySelector("#ov-week");
    if (week) {
      var fills = { elevator: colour(root, "--accent", "#1f5fbf"), kitchen: colour(root, "--p2", "#e07b00") };
      drawn.push(bar(week, data.week.labels, data.week.series.map(function (s) {
        return { label: s.label, data: s.counts, backgroundColor: fills[s.kind] || "#8a8f98", maxBarThickness: 36 };
      }), data.week.axis, data.week.x_axis, false));
    }
    return drawn;
  }

  window.bwOverview = draw;
  // loaded (deferred) after the console already put the view in place: draw it now
  var shown = document.querySelector('[data-view="overview"]');
  if (shown) draw(shown);
})();
