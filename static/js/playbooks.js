// Playbook template editor: placeholder buttons insert "{name}" at the cursor in the body, then
// fire an input event so htmx refreshes the live preview. No inline script: the CSP forbids it.
document.addEventListener("DOMContentLoaded", function () {
  var body = document.getElementById("id_body");
  if (!body) return;
  document.querySelectorAll("[data-insert-placeholder]").forEach(function (button) {
    button.addEventListener("click", function () {
      var token = "{" + button.getAttribute("data-insert-placeholder") + "}";
      var start = body.selectionStart, end = body.selectionEnd;
      if (typeof start !== "number") { start = end = body.value.length; }
      body.value = body.value.slice(0, start) + token + body.value.slice(end);
      body.focus();
      body.selectionStart = body.selectionEnd = start + token.length;
      body.dispatchEvent(new Event("input", { bubbles: true }));
    });
  });
});
