// Ask before submitting a form that carries data-confirm (a static script: the CSP allows
// no inline handlers). Used by the clinic admin pages; the note page has its own in notes.js.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
