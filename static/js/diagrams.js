/* Mermaid diagrams of the flow pages, drawn in the browser by the vendored mermaid.js.

   <div data-mermaid-source="ID"> is replaced by the SVG of the text in #ID. Mermaid is set up with
   strict security (no HTML, no click handlers from the text) and told to render explicitly; a diagram
   that fails to draw shows a readable error instead. <button data-copy-text="ID"> copies #ID's text. */
(function () {
  "use strict";

  var MIN_SCALE = 0.65;

  function message(error) {
    var text = (error && (error.message || error.str)) || String(error);
    return text.replace(/\s+$/, "");
  }

  function showError(box, error) {
    box.innerHTML = "";
    var alert = document.createElement("div");
    alert.className = "diagram-error";
    alert.setAttribute("role", "alert");
    var title = document.createElement("strong");
    title.textContent = "The diagram could not be drawn.";
    var detail = document.createElement("pre");
    detail.textContent = message(error);
    var hint = document.createElement("p");
    hint.textContent = "Its Mermaid source is below; the steps table shows the same flow.";
    alert.append(title, detail, hint);
    box.appendChild(alert);
    box.setAttribute("data-rendered", "error");
  }

  // A diagram too wide to read when shrunk to the box scrolls; a button shrinks it anyway, to see it whole.
  function fitToggle(box, svg, needed) {
    var card = box.closest(".card");
    var button = card && card.querySelector("[data-diagram-fit]");
    if (!button || !needed) return;
    var scrolling = svg.style.minWidth;
    var hint = card.querySelector(".mermaid-wide");
    if (hint) hint.hidden = false;
    button.hidden = false;
    button.addEventListener("click", function () {
      var fit = button.getAttribute("aria-pressed") !== "true";
      svg.style.minWidth = fit ? "" : scrolling;
      button.setAttribute("aria-pressed", String(fit));
    });
  }

  async function draw(box, index) {
    var source = document.getElementById(box.getAttribute("data-mermaid-source"));
    var id = "mermaid-diagram-" + index;
    try {
      var result = await window.mermaid.render(id, source ? source.textContent : "");
      box.innerHTML = result.svg;
      // Mermaid scales a wide diagram down to the box; below 65% of its size it scrolls instead.
      var svg = box.querySelector("svg");
      var natural = svg && parseFloat(svg.style.maxWidth);
      if (natural) {
        svg.style.minWidth = Math.round(natural * MIN_SCALE) + "px";
        var style = window.getComputedStyle(box);
        var room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        fitToggle(box, svg, natural * MIN_SCALE > room);
      }
      if (result.bindFunctions) result.bindFunctions(box);
      box.setAttribute("data-rendered", "true");
    } catch (error) {
      // A failed render can leave its scratch element behind at the end of the page.
      ["d" + id, id].forEach(function (stray) {
        var node = document.getElementById(stray);
        if (node && !box.contains(node)) node.remove();
      });
      showError(box, error);
    }
  }

  var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-mermaid-source]"));
  if (boxes.length) {
    if (!window.mermaid) {
      boxes.forEach(function (box) { showError(box, "mermaid.js did not load."); });
    } else {
      window.mermaid.initialize({
        startOnLoad: false,
        securityLevel: "strict",
        theme: "neutral",
        fontFamily: window.getComputedStyle(document.body).fontFamily,
        // No wrapping: Mermaid would break its own entity codes (#quot;) across lines.
        sequence: { useMaxWidth: true, wrap: false, width: 110, actorMargin: 24, messageFontSize: 13, actorFontSize: 13, noteFontSize: 12 },
        flowchart: { useMaxWidth: true }
      });
      boxes.reduce(function (previous, box, index) {  // one after another: mermaid keeps global state
        return previous.then(function () { return draw(box, index); });
      }, Promise.resolve());
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-text]");
    if (!button) return;
    var node = document.getElementById(button.getAttribute("data-copy-text"));
    if (!node) return;
    var label = button.textContent;
    function done(text) {
      button.textContent = text;
      window.setTimeout(function () { button.textContent = label; }, 2000);
    }
    function fallback() {
      var range = document.createRange();
      range.selectNodeContents(node);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try {
        done(document.execCommand("copy") ? "Copied" : "Press Ctrl+C");
      } catch (error) {
        done("Press Ctrl+C");
      }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(node.textContent).then(function () { done("Copied"); }, fallback);
    } else {
      fallback();
    }
  });
})();
