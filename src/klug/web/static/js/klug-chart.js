// klug – time-series chart of a Datastream (uPlot). Progressive enhancement: the page
// shows the same values as a table without JavaScript.
(function () {
  "use strict";
  var box = document.getElementById("chart");
  if (!box || !window.uPlot || !window.fetch) { return; }
  var seriesUrl = box.getAttribute("data-series");
  var liveUrl = box.getAttribute("data-live");
  var hours = parseInt(box.getAttribute("data-hours"), 10) || 24;
  var unit = box.getAttribute("data-unit") || "";
  var labels = {
    mean: box.getAttribute("data-label-mean"), min: box.getAttribute("data-label-min"),
    max: box.getAttribute("data-label-max"), value: box.getAttribute("data-label-value")
  };
  var plot = null;
  var range = null; // [from ms, to ms] while zoomed in; null follows "now"

  function iso(ms) { return new Date(ms).toISOString(); }

  function load() {
    var to = range ? range[1] : Date.now();
    var from = range ? range[0] : to - hours * 3600 * 1000;
    var width = Math.max(200, box.clientWidth);
    var url = seriesUrl + "?from=" + encodeURIComponent(iso(from)) + "&to=" + encodeURIComponent(iso(to)) +
      "&points=" + Math.min(2000, Math.round(width));
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(draw);
  }

  function draw(body) {
    var c = body.columns || {};
    var x = (c.t || []).map(function (ms) { return ms / 1000; });
    var data, series;
    if (c.value) {
      data = [x, c.value];
      series = [{}, { label: labels.value, stroke: "#0b4ea2", width: 2 }];
    } else {
      data = [x, c.mean || [], c.min || [], c.max || []];
      series = [{}, { label: labels.mean, stroke: "#0b4ea2", width: 2 },
        { label: labels.min, stroke: "#767676", dash: [4, 4] },
        { label: labels.max, stroke: "#9b1027", dash: [4, 4] }];
    }
    if (plot) { plot.destroy(); }
    plot = new window.uPlot({
      width: Math.max(280, box.clientWidth), height: 320, series: series,
      axes: [{}, { label: unit }],
      cursor: { drag: { x: true, y: false } },
      hooks: { setSelect: [function (u) {
        if (u.select.width < 5) { return; }
        var from = u.posToVal(u.select.left, "x") * 1000;
        var to = u.posToVal(u.select.left + u.select.width, "x") * 1000;
        range = [from, to];
        load();
      }] }
    }, data, box);
    plot.over.addEventListener("dblclick", function () { range = null; load(); });
  }

  var pending = null;
  function refreshSoon() {
    if (range || pending) { return; } // a zoomed-in view stays as chosen
    pending = setTimeout(function () { pending = null; load(); }, 2000);
  }

  load();
  if (liveUrl && window.EventSource) {
    new EventSource(liveUrl).addEventListener("sensors.observations", refreshSoon);
  }
  window.addEventListener("resize", function () { if (plot) { plot.setSize({ width: Math.max(280, box.clientWidth), height: 320 }); } });
})();
