// Drag-and-drop reordering of a program's items (the builder). The Move up / Move down
// buttons are the keyboard way and work without this script; this adds dragging, then posts
// the new order as JSON and reloads the page so the server's order is what is shown.
(function () {
  "use strict";
  var list = document.getElementById("items");
  if (!list || !list.dataset.reorderUrl) { return; }
  var dragged = null;

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function order() {
    return Array.prototype.map.call(
      list.querySelectorAll("li[data-item-id]"),
      function (li) { return parseInt(li.dataset.itemId, 10); }
    );
  }

  function save() {
    list.setAttribute("aria-busy", "true");
    fetch(list.dataset.reorderUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ order: order() })
    }).then(function () { window.location.reload(); });
  }

  list.addEventListener("dragstart", function (event) {
    var li = event.target.closest ? event.target.closest("li[data-item-id]") : null;
    if (!li) { return; }
    dragged = li;
    li.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", li.dataset.itemId);
  });
  list.addEventListener("dragover", function (event) {
    if (!dragged) { return; }
    event.preventDefault();
    var target = event.target.closest ? event.target.closest("li[data-item-id]") : null;
    if (!target || target === dragged) { return; }
    var box = target.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? target.nextSibling : target);
  });
  list.addEventListener("drop", function (event) {
    if (!dragged) { return; }
    event.preventDefault();
  });
  list.addEventListener("dragend", function () {
    if (!dragged) { return; }
    dragged.classList.remove("dragging");
    dragged = null;
    save();
  });
})();
