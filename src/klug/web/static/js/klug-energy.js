// klug – energy dashboard: a chart of the table's values (uPlot) and live updates of the
// "right now" figures. Progressive enhancement: without JavaScript the page shows the
// same values as tables.
(function () {
  "use strict";
  var palette = ["#0b4ea2", "#b35900", "#1a7f37", "#6f42c1", "#9b1027", "#444444"];

  function chart() {
    var box = document.getElementById("energy-chart");
    var table = document.getElementById("energy-table");
    if (!box || !table || !window.uPlot) { return; }
    var heads = table.querySelectorAll("thead th[data-column]");
    var rows = table.querySelectorAll("tbody tr");
    var x = [];
    var columns = [];
    var series = [{}];
    heads.forEach(function (th, i) {
      columns.push([]);
      series.push({ label: th.textContent, stroke: palette[i % palette.length], width: 2 });
    });
    rows.forEach(function (tr) {
      var cells = tr.querySelectorAll("td");
      x.push(Date.parse(cells[0].getAttribute("data-t")) / 1000);
      columns.forEach(function (col, i) {
        // The table shows localised numbers (1.234,5); the chart reads them back.
        var text = cells[i + 1].textContent.trim();
        var n = text === "" ? null : parseFloat(text.replace(/[.\u202f\u00a0 ]/g, "").replace(",", "."));
        if (document.documentElement.lang === "en" && text !== "") { n = parseFloat(text.replace(/,/g, "")); }
        col.push(n);
      });
    });
    if (x.length < 2) { return; }
    new window.uPlot({
      width: Math.max(280, box.clientWidth), height: 320, series: series,
      axes: [{}, { label: "MWh" }]
    }, [x].concat(columns), box);
  }

  function live() {
    var box = document.getElementById("live-mix");
    if (!box || !window.EventSource || !window.fetch) { return; }
    var url = box.getAttribute("data-live");
    if (!url) { return; }
    var pending = null;
    new EventSource(url).addEventListener("sensors.observations", function () {
      if (pending) { return; }
      // Meters report in bursts: reload the page's figures once the burst is over.
      pending = setTimeout(function () {
        pending = null;
        fetch(window.location.href, { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var doc = new DOMParser().parseFromString(html, "text/html");
            var fresh = doc.getElementById("mix-heading");
            var current = document.getElementById("mix-heading");
            if (fresh && current) {
              // The section is replaced; this one EventSource keeps feeding it.
              current.parentNode.replaceWith(fresh.parentNode);
            }
          });
      }, 3000);
    });
  }

  chart();
  live();
})();
