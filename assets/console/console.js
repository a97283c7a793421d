// TRM console: small enhancements over pages that work without JavaScript.
// - a form's submit buttons are disabled once it is sent (the server's idempotency keys make
//   a second submission harmless anyway);
// - times are shown in the browser's time zone;
// - after a partial update, focus goes to a message that appeared (screen readers hear it).
(function () {
  "use strict";
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d.getTime()) && el.getAttribute("datetime").length > 10) {
        el.title = el.textContent;
        el.textContent = d.toLocaleString(document.documentElement.lang || undefined, {
          dateStyle: "medium", timeStyle: "short"
        });
      }
    });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.setAttribute("aria-disabled", "true");
      });
    }, 0);
  }, true);
  // Back to a page from the browser's cache: its forms may be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (f) {
      delete f.dataset.sent;
    });
  });
  // A wide workflow picture scrolls so that the current state is in view.
  function showCurrentStates(root) {
    root.querySelectorAll(".diagram").forEach(function (box) {
      var current = box.querySelector(".state.current rect");
      if (!current) { return; }
      var x = parseFloat(current.getAttribute("x")) || 0;
      var y = parseFloat(current.getAttribute("y")) || 0;
      box.scrollLeft = Math.max(0, x - box.clientWidth / 2 + 84);
      box.scrollTop = Math.max(0, y - box.clientHeight / 2);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    showCurrentStates(document);
    var flash = document.getElementById("flash");
    if (flash) { flash.focus(); }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    localTimes(event.target);
  });
})();
