/* Handrail visit note page: per-code START/STOP timers (plain JS, no framework).
 *
 * A timer form per service line holds hidden started_at/ended_at inputs. START stamps the
 * start (kept in sessionStorage so a reload does not lose a running timer); STOP stamps the
 * end and submits the form through htmx, whose answer updates the line's minutes, its
 * segments and the live panel out of band. Starting a timer stops any other running timer
 * at the same instant (one-on-one time is one code at a time).
 * The Content Security Policy forbids inline scripts: everything lives in this file.
 */
(function () {
  "use strict";

  var STORE = "handrail.timer.";
  var tick = null;

  function forms() {
    return Array.prototype.slice.call(document.querySelectorAll("form.timer"));
  }

  function key(form) {
    return STORE + form.dataset.line;
  }

  function running(form) {
    return form.querySelector(".timer-start").value !== "";
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function show(form) {
    var out = form.querySelector(".elapsed");
    var button = form.querySelector(".timer-btn");
    var start = form.querySelector(".timer-start").value;
    if (!start) {
      out.textContent = "0:00";
      button.textContent = "Start";
      button.classList.remove("running");
      button.setAttribute("aria-pressed", "false");
      form.classList.remove("is-running");
      return;
    }
    var seconds = Math.max(0, Math.floor((Date.now() - Date.parse(start)) / 1000));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    out.textContent = (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
    button.textContent = "Stop";
    button.classList.add("running");
    button.setAttribute("aria-pressed", "true");
    form.classList.add("is-running");
  }

  function showAll() {
    forms().forEach(show);
    var any = forms().some(running);
    if (any && tick === null) {
      tick = window.setInterval(showAll, 1000);
    } else if (!any && tick !== null) {
      window.clearInterval(tick);
      tick = null;
    }
  }

  function start(form, at) {
    form.querySelector(".timer-start").value = at;
    form.querySelector(".timer-end").value = "";
    window.sessionStorage.setItem(key(form), at);
    showAll();
  }

  function stop(form, at) {
    form.querySelector(".timer-end").value = at;
    window.sessionStorage.removeItem(key(form));
    if (window.htmx) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  function onClick(event) {
    var button = event.target.closest(".timer-btn");
    if (!button) {
      return;
    }
    var form = button.closest("form.timer");
    var now = new Date().toISOString();
    if (running(form)) {
      stop(form, now);
      return;
    }
    forms().forEach(function (other) {
      if (other !== form && running(other)) {
        stop(other, now);
      }
    });
    start(form, now);
  }

  // After htmx sent a timer segment, clear that timer (the answer shows the minutes).
  function onAfterRequest(event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form.timer")) {
      form.querySelector(".timer-start").value = "";
      form.querySelector(".timer-end").value = "";
      showAll();
    }
  }

  function onSubmit(event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }

  function restore() {
    forms().forEach(function (form) {
      var saved = window.sessionStorage.getItem(key(form));
      if (saved) {
        form.querySelector(".timer-start").value = saved;
      }
    });
    showAll();
  }

  // Character counters: a note field shows its count near its limit and says plainly when
  // it is over (the server then refuses that field alone). Nothing is cut by the browser.
  var COUNT_FROM = 0.8;

  function count(field) {
    var limit = parseInt(field.dataset.maxlength, 10);
    var out = document.getElementById("n-" + field.id);
    if (!limit || !out) {
      return;
    }
    var n = field.value.length;
    if (n > limit) {
      out.textContent = n.toLocaleString("en-US") + " / " + limit.toLocaleString("en-US") +
        " characters: " + (n - limit).toLocaleString("en-US") +
        " over the limit; shorten it or this field will not save.";
      out.classList.add("over");
    } else if (n >= limit * COUNT_FROM) {
      out.textContent = n.toLocaleString("en-US") + " / " + limit.toLocaleString("en-US") +
        " characters";
      out.classList.remove("over");
    } else {
      out.textContent = "";
      out.classList.remove("over");
    }
  }

  function onInput(event) {
    var field = event.target;
    if (field && field.dataset && field.dataset.maxlength) {
      count(field);
    }
  }

  // The save status tells what the server answered, never more: "Saving…" while a save is
  // in flight, "Not saved" when it failed or never reached the server.
  function statusOf(form) {
    return form && form.querySelector ? form.querySelector(".save-status") : null;
  }

  function onBeforeRequest(event) {
    var status = statusOf(event.detail.elt);
    if (status) {
      status.textContent = "Saving…";
      status.classList.remove("save-failed");
    }
  }

  function failed(event, text) {
    var status = statusOf(event.detail.elt);
    if (status) {
      status.textContent = text;
      status.classList.add("save-failed");
    }
  }

  function onResponseError(event) {
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    var text = code === 403
      ? "Not saved: you may not change this note."
      : "Not saved: the server answered " + code + ". Your text is still here; try again.";
    failed(event, text);
  }

  function onSendError(event) {
    failed(event, "Not saved: the server could not be reached. Your text is still here.");
  }

  // Validation errors (422) and a locked note (409) come back as fragments to show.
  function configure() {
    if (window.htmx) {
      window.htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "409", swap: true, error: false },
        { code: "422", swap: true, error: false },
        { code: "[45]..", swap: false, error: true },
      ];
    }
  }

  document.addEventListener("click", onClick);
  document.addEventListener("submit", onSubmit, true);
  document.addEventListener("htmx:afterRequest", onAfterRequest);
  document.addEventListener("htmx:beforeRequest", onBeforeRequest);
  document.addEventListener("htmx:responseError", onResponseError);
  document.addEventListener("htmx:sendError", onSendError);
  document.addEventListener("input", onInput);
  document.addEventListener("DOMContentLoaded", function () {
    configure();
    restore();
    Array.prototype.forEach.call(document.querySelectorAll("[data-maxlength]"), count);
  });
})();
