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

  // The pages carry no inline code (Content-Security-Policy: docs/security.md); these data-*
  // attributes stand in for what inline handlers and style attributes used to do.

  // <section data-swap-statuses="403 409 422">: htmx swaps those error answers in place, as it does
  // a 200, because they carry the form with the problem explained.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var holder = event.target.closest && event.target.closest("[data-swap-statuses]");
    if (!holder || !event.detail.xhr) return;
    var statuses = holder.getAttribute("data-swap-statuses").split(/\s+/);
    if (statuses.indexOf(String(event.detail.xhr.status)) !== -1) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // <div hx-trigger="every 15s" data-poll-when-visible>: no polling while the tab is hidden.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    // Only its polls come from a hidden tab: nobody can click there.
    if (source && source.hasAttribute && source.hasAttribute("data-poll-when-visible") &&
        document.visibilityState !== "visible") {
      event.preventDefault();
    }
  });

  // <span data-width="42">: a bar 42% wide (set through the DOM, which the policy allows; a
  // style="" attribute would be refused).
  function widths(root) {
    if (!root || !root.querySelectorAll) return;
    var found = Array.prototype.slice.call(root.querySelectorAll("[data-width]"));
    if (root.hasAttribute && root.hasAttribute("data-width")) found.push(root);
    found.forEach(function (element) {
      var value = parseFloat(element.getAttribute("data-width"));
      if (!isNaN(value)) element.style.width = Math.max(0, Math.min(100, value)) + "%";
    });
  }
  document.addEventListener("htmx:load", function (event) { widths(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { widths(document); });
  } else {
    widths(document);
  }

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
