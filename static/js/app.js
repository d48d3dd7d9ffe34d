/* Switchboard: the little JavaScript the pages need. No framework; htmx does the rest. */
(function () {
  "use strict";

  // <form data-confirm="Question?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <button data-copy="element-id">: copy that input's value.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var label = button.textContent;
    function done(text) {
      button.textContent = text;
      window.setTimeout(function () { button.textContent = label; }, 2000);
    }
    function fallback() {
      field.focus();
      field.select();
      try {
        done(document.execCommand("copy") ? "Copied" : "Press Ctrl+C");
      } catch (error) {
        done("Press Ctrl+C");
      }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done("Copied"); }, fallback);
    } else {
      fallback();
    }
  });

  // Forms marked data-drop-empty keep their htmx URLs short: empty filters are left out.
  document.addEventListener("htmx:configRequest", function (event) {
    var source = event.detail.elt;
    if (!source || !source.closest || !source.closest("[data-drop-empty]")) return;
    var data = event.detail.formData;
    if (!data || !data.keys) return;
    Array.from(new Set(data.keys())).forEach(function (key) {
      var values = data.getAll(key).filter(function (value) { return value !== ""; });
      if (!values.length || key === "page") data.delete(key);
    });
  });
})();
