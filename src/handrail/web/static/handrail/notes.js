/* Handrail visit note page: per-code START/STOP timers (plain JS, no framework).
 *
 * Timers live on the server: Start and Stop post to it (htmx), and its answer replaces
 * every line's timer out of band (a start may stop the user's timer on another line), with
 * the stopped line's minutes, runs and the live panel. A running timer carries its start
 * (data-started, seconds since the epoch); this file only ticks the elapsed time. The page
 * asks the server for the timers every 10 s and whenever it gets the focus or becomes
 * visible, so a timer started or stopped on another tab or device shows here, and one left
 * running survives a closed tab.
 * The Content Security Policy forbids inline scripts: everything lives in this file.
 */
(function () {
  "use strict";

  var tick = null;

  function forms() {
    return Array.prototype.slice.call(document.querySelectorAll("form.timer"));
  }

  function running(form) {
    return Boolean(form.dataset.started);
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function show(form) {
    var out = form.querySelector(".elapsed");
    if (!running(form)) {
      out.textContent = "0:00";
      return;
    }
    var started = parseInt(form.dataset.started, 10) * 1000;
    var seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    out.textContent = (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
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

  // Back on a tab that was hidden: ask the server for the timers now, not in 10 s.
  function onVisible() {
    var poll = document.getElementById("timer-poll");
    if (document.visibilityState === "visible" && poll && window.htmx) {
      window.htmx.trigger(poll, "refresh");
    }
  }

  function onSubmit(event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
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

  document.addEventListener("submit", onSubmit, true);
  document.addEventListener("htmx:afterSettle", showAll);
  document.addEventListener("htmx:oobAfterSwap", showAll);
  document.addEventListener("visibilitychange", onVisible);
  document.addEventListener("htmx:beforeRequest", onBeforeRequest);
  document.addEventListener("htmx:responseError", onResponseError);
  document.addEventListener("htmx:sendError", onSendError);
  document.addEventListener("input", onInput);
  document.addEventListener("DOMContentLoaded", function () {
    configure();
    showAll();
    Array.prototype.forEach.call(document.querySelectorAll("[data-maxlength]"), count);
  });
})();
