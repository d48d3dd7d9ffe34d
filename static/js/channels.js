// Channel forms (form[data-channel-form]): show the fields of the chosen kind only — URL and secret
// for a webhook, URL for a Slack-compatible webhook, addresses for e-mail. Without JavaScript every
// field stays visible and the server says which ones a kind takes.
(function () {
  "use strict";
  var FIELDS = { webhook: ["url", "secret", "remove_secret"], slack: ["url"], email: ["addresses"] };
  var ALL = ["url", "secret", "remove_secret", "addresses"];

  function sync(form) {
    var kind = form.querySelector("select[name=kind]");
    if (!kind) return;
    var wanted = FIELDS[kind.value] || ALL;
    ALL.forEach(function (name) {
      var input = form.querySelector("[name=" + name + "]");
      var field = input && input.closest(".field");
      if (field) field.hidden = wanted.indexOf(name) < 0;
    });
  }

  function start() {
    document.querySelectorAll("form[data-channel-form]").forEach(function (form) {
      sync(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "kind") sync(form);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
