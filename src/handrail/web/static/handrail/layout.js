// Small-screen layout: the live panel's open/closed toggle (notes.css under 1000 px).
// The panel is replaced by htmx after every save, so the state lives on <body> and the
// toggle is found by delegation; after each swap the new button is told the state.
(() => {
  const sync = () => {
    const open = document.body.classList.contains("panel-open");
    for (const button of document.querySelectorAll(".panel-toggle")) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? "Hide" : "Show";
    }
  };
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest(".panel-toggle") : null;
    if (!button) return;
    document.body.classList.toggle("panel-open");
    sync();
  });
  document.addEventListener("htmx:afterSettle", sync);
  document.addEventListener("DOMContentLoaded", sync);
})();
