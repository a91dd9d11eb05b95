// klug – application forms: hide the fields that only some answers need.
// Progressive enhancement: without this script every field is shown with a note saying
// when it is needed, and the server checks only the relevant ones.
(function () {
  "use strict";
  var form = document.querySelector("form.application-form");
  if (!form) { return; }
  var dependants = form.querySelectorAll("[data-show-if]");
  if (!dependants.length) { return; }

  function valueOf(name) {
    var checked = form.querySelector("input[name='" + name + "']:checked");
    if (checked) { return checked.value; }
    var select = form.querySelector("select[name='" + name + "']");
    return select ? select.value : "";
  }

  function update() {
    dependants.forEach(function (element) {
      var wanted = (element.getAttribute("data-show-values") || "").split(" ");
      var shown = wanted.indexOf(valueOf(element.getAttribute("data-show-if"))) !== -1;
      element.hidden = !shown;
      // The note "only needed if …" is for visitors who see every field.
      element.querySelectorAll(".field__condition").forEach(function (note) {
        note.hidden = true;
      });
    });
  }

  form.addEventListener("change", update);
  update();
})();
