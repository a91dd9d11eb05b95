// klug – progressive enhancement only: every page works without this script.
// Live site notices: replace the notice region when the server announces a change.
(function () {
  "use strict";
  var region = document.getElementById("notices");
  var source = document.body.getAttribute("data-live-notices");
  if (!region || !source || !window.EventSource) { return; }
  var english = document.documentElement.lang === "en";

  function render(notices) {
    region.textContent = "";
    notices.forEach(function (notice) {
      var section = document.createElement("section");
      section.className = "notice notice--" + (notice.severity === "warning" ? "warning" : "info");
      var id = "notice-" + notice.id;
      section.setAttribute("aria-labelledby", id);
      var title = document.createElement("h2");
      title.className = "notice__title";
      title.id = id;
      title.textContent = english ? notice.title_en : notice.title_de;
      section.appendChild(title);
      var body = english ? notice.body_en : notice.body_de;
      if (body) {
        var text = document.createElement("p");
        text.textContent = body;
        section.appendChild(text);
      }
      region.appendChild(section);
    });
  }

  var stream = new EventSource(source);
  stream.addEventListener("notices", function (event) {
    try { render(JSON.parse(event.data).notices || []); } catch (ignored) { /* keep what is shown */ }
  });
})();

// After a form was sent back with errors, take keyboard and screen-reader users to the
// summary of what to correct (its links lead to the fields).
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
