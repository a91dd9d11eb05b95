// klug – maps (Leaflet): choose a point for a form, or show markers read from a JSON source.
// Progressive enhancement only: the widgets (components/map.html) stay hidden until this
// script has drawn their map; the coordinate fields, or the list of reports, do the same
// without it. Texts come translated from data- attributes; background tiles only from the
// server the city configured (none by default, so no third party sees who looks).
(function () {
  "use strict";
  if (!window.L) { return; }
  var L = window.L;

  function text(widget, name) {
    return widget.getAttribute("data-map-" + name) || "";
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  // Leaflet writes attributions as HTML; the setting is plain text.
  function escapeHtml(value) {
    var holder = document.createElement("div");
    holder.textContent = value;
    return holder.innerHTML;
  }

  function areaOf(widget) {
    var parts = text(widget, "area").split(",").map(Number);
    if (parts.length !== 4 || parts.some(function (n) { return !isFinite(n); })) { return null; }
    return L.latLngBounds([parts[0], parts[1]], [parts[2], parts[3]]);
  }

  // A map showing the area (the frame in which places are accepted), with translated
  // controls; a background map only when the city configured a tile server.
  function createMap(widget, container, area) {
    var tiles = text(widget, "tiles");
    var map = L.map(container, {
      zoomControl: false,
      attributionControl: false,
      // Room to look around the city, but not to get lost on an empty plane.
      maxBounds: area.pad(2),
      // Without tiles the frame may fill the map exactly; tiles stay sharp at whole zooms.
      zoomSnap: tiles ? 1 : 0.25,
      // The wheel scrolls the page, as everywhere else on it; + and - buttons and keys zoom.
      scrollWheelZoom: false
    });
    L.control.zoom({
      zoomInTitle: text(widget, "zoom-in"),
      zoomOutTitle: text(widget, "zoom-out")
    }).addTo(map);
    L.control.attribution({prefix: "<a href=\"https://leafletjs.com\">Leaflet</a>"}).addTo(map);
    if (tiles) {
      L.tileLayer(tiles, {maxZoom: 19, attribution: escapeHtml(text(widget, "attribution"))}).addTo(map);
    }
    L.rectangle(area, {className: "map__area", fill: false, interactive: false, weight: 2, dashArray: "6 4"})
      .addTo(map);
    function fit() {
      map.setMinZoom(0);
      map.fitBounds(area);
      map.setMinZoom(Math.max(0, map.getZoom() - 1));
    }
    fit();
    // A map drawn while its section was hidden (a field shown only for some answers) has no
    // size yet: fit it once it has one.
    if (window.ResizeObserver) {
      var sized = container.clientWidth > 0;
      new ResizeObserver(function () {
        map.invalidateSize();
        if (!sized && container.clientWidth > 0) {
          sized = true;
          fit();
        }
      }).observe(container);
    }
    map.on("popupopen", function (event) {
      var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) { close.setAttribute("aria-label", text(widget, "close")); }
    });
    return map;
  }

  function parseDegrees(value) {
    var cleaned = value.trim().replace(",", ".");
    if (!/^[-+]?\d+(\.\d+)?$/.test(cleaned)) { return null; }
    return Number(cleaned);
  }

  // Choose a point: click or tap; or focus the map, move it with the arrow keys and press
  // Enter or Space to take its centre (the cross). Typing coordinates moves the marker.
  function pointWidget(widget) {
    var latInput = document.getElementById(text(widget, "lat-input"));
    var lonInput = document.getElementById(text(widget, "lon-input"));
    var container = widget.querySelector(".map");
    var status = widget.querySelector("[data-map-status]");
    var area = areaOf(widget);
    if (!latInput || !lonInput || !container || !status || !area) { return; }
    widget.hidden = false;
    var map = createMap(widget, container, area);
    var marker = null;

    function show(point) {
      if (marker) {
        marker.setLatLng(point);
        return;
      }
      marker = L.marker(point, {alt: text(widget, "marker"), keyboard: false, draggable: true}).addTo(map);
      marker.on("dragend", function () { choose(marker.getLatLng()); });
    }

    function typed() {
      var lat = parseDegrees(latInput.value);
      var lon = parseDegrees(lonInput.value);
      var point = lat === null || lon === null ? null : L.latLng(lat, lon);
      if (point && area.contains(point)) {
        show(point);
        if (!map.getBounds().contains(point)) { map.panTo(point); }
      } else if (marker) {
        map.removeLayer(marker);
        marker = null;
      }
    }

    function choose(point) {
      if (!area.contains(point)) {
        status.textContent = text(widget, "outside");
        typed();  // a dragged marker goes back to the coordinates in the fields
        return;
      }
      latInput.value = point.lat.toFixed(6);
      lonInput.value = point.lng.toFixed(6);
      show(point);
      status.textContent = fill(text(widget, "set"), {lat: latInput.value, lon: lonInput.value});
    }

    map.on("click", function (event) { choose(event.latlng); });
    container.addEventListener("keydown", function (event) {
      if (event.target !== container || event.altKey || event.ctrlKey || event.metaKey) { return; }
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        choose(map.getCenter());
      }
    });
    latInput.addEventListener("input", typed);
    lonInput.addEventListener("input", typed);
    typed();  // coordinates kept when the form came back with a mistake
  }

  function popupContent(item) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.title;
    var detail = document.createElement("p");
    detail.textContent = item.text;
    box.appendChild(link);
    box.appendChild(detail);
    return box;
  }

  // A marker is a button (Tab, then Enter or Space); a popup opened from the keyboard takes
  // the focus to its link, and Escape closes it and goes back to the marker.
  function addMarker(map, item) {
    var content = popupContent(item);
    var marker = L.marker([item.lat, item.lon], {alt: item.title + ": " + item.text, keyboard: true});
    var openedByKeyboard = false;
    // Before bindPopup: Leaflet opens the popup in its own keypress handler.
    marker.on("keypress", function (event) {
      openedByKeyboard = event.originalEvent.key === "Enter";
    });
    marker.on("keydown", function (event) {
      if (event.originalEvent.key === " ") {
        event.originalEvent.preventDefault();
        openedByKeyboard = true;
        marker.openPopup();
      }
    });
    marker.bindPopup(content).addTo(map);
    marker.on("popupopen", function () {
      if (openedByKeyboard) { content.querySelector("a").focus(); }
      openedByKeyboard = false;
    });
    content.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        marker.closePopup();
        marker.getElement().focus();
      }
    });
  }

  function markersWidget(widget) {
    var container = widget.querySelector(".map");
    var status = widget.querySelector("[data-map-status]");
    var area = areaOf(widget);
    var source = text(widget, "source");
    if (!container || !status || !area || !source || !window.fetch) { return; }
    widget.hidden = false;
    var map = createMap(widget, container, area);
    fetch(source, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        data.markers.forEach(function (item) { addMarker(map, item); });
        if (data.markers.length) {
          var shown = L.latLngBounds(data.markers.map(function (item) { return [item.lat, item.lon]; }));
          map.fitBounds(shown.pad(0.1), {maxZoom: 16});
        }
        status.textContent = fill(text(widget, "count"), {shown: data.markers.length, total: data.total});
        widget.setAttribute("data-map-loaded", String(data.markers.length));
      })
      .catch(function () {
        status.textContent = text(widget, "failed");
      });
  }

  document.querySelectorAll("[data-map-point]").forEach(pointWidget);
  document.querySelectorAll("[data-map-markers]").forEach(markersWidget);
})();
