// Small progressive enhancements. No inline scripts anywhere: the CSP forbids them.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (event) {
      if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // Flash messages: the × hides one; successes and notes hide themselves after a while unless the
  // pointer or focus is on them (errors and warnings stay until dismissed).
  var AUTOHIDE_MS = 10000;
  document.querySelectorAll(".messages .msg").forEach(function (msg) {
    var hide = function () { msg.classList.add("msg-hidden"); };
    var close = msg.querySelector("[data-dismiss]");
    if (close) close.addEventListener("click", hide);
    if (!msg.hasAttribute("data-autohide")) return;
    var timer = window.setTimeout(hide, AUTOHIDE_MS);
    var hold = function () { window.clearTimeout(timer); };
    var release = function () { timer = window.setTimeout(hide, AUTOHIDE_MS); };
    msg.addEventListener("mouseenter", hold);
    msg.addEventListener("mouseleave", release);
    msg.addEventListener("focusin", hold);
    msg.addEventListener("focusout", release);
  });
});
