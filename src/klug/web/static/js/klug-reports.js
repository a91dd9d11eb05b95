// klug – Mängelmelder: "use my current position" fills in the coordinates of the report
// form. Progressive enhancement only: without this script (or without permission to
// read the position) people type coordinates, an address or a description of the place.
(function () {
  "use strict";
  var holder = document.querySelector("[data-locate]");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("long");
  if (!holder || !lat || !lon || !navigator.geolocation) { return; }

  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button--secondary";
  button.textContent = holder.getAttribute("data-locate-label");
  var status = document.createElement("p");
  status.setAttribute("role", "status");
  status.className = "field__hint";
  holder.appendChild(button);
  holder.appendChild(status);

  button.addEventListener("click", function () {
    status.textContent = holder.getAttribute("data-locate-busy");
    navigator.geolocation.getCurrentPosition(function (position) {
      lat.value = position.coords.latitude.toFixed(6);
      lon.value = position.coords.longitude.toFixed(6);
      // The map (klug-map.js), if there is one, moves its marker to typed coordinates.
      lon.dispatchEvent(new Event("input", {bubbles: true}));
      status.textContent = holder.getAttribute("data-locate-done");
    }, function () {
      status.textContent = holder.getAttribute("data-locate-failed");
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });
})();
