/* Switchboard: the report page (reports/report.html), in a browser and when printed to PDF.

   Draws every <div data-mermaid-source="ID"> from the Mermaid text in #ID and every
   <div data-chart="ID"> from the Plotly figure JSON in #ID, one after another, then sets
   window.reportReady = true: the PDF renderer waits for it before printing. What could not be drawn
   is listed in window.reportProblems (and shown in place), so a report is never printed half-drawn
   without saying so. */
(function () {
  "use strict";

  window.reportProblems = [];

  function reason(error) {
    return ((error && (error.message || error.str)) || String(error)).split("\n")[0].slice(0, 200);
  }

  function fail(box, what, error) {
    window.reportProblems.push(what + ": " + reason(error));
    var note = document.createElement("p");
    note.className = "draw-error";
    note.textContent = what + " could not be drawn (" + reason(error) + ").";
    box.replaceChildren(note);
  }

  async function diagram(box, index) {
    var source = document.getElementById(box.getAttribute("data-mermaid-source"));
    var what = box.getAttribute("data-title") || "A diagram";
    try {
      var result = await window.mermaid.render("report-diagram-" + index, source ? source.textContent : "");
      box.innerHTML = result.svg;
      var svg = box.querySelector("svg");  // its natural size, never blown up to the page's width
      var natural = svg && parseFloat(svg.style.maxWidth);
      if (natural) {
        svg.setAttribute("width", String(natural));
        svg.style.maxWidth = "100%";
      }
      box.setAttribute("data-rendered", "true");
    } catch (error) {
      fail(box, what, error);
    }
  }

  async function diagrams() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-mermaid-source]"));
    if (!boxes.length) return;
    if (!window.mermaid) {
      boxes.forEach(function (box) { fail(box, box.getAttribute("data-title") || "A diagram", "mermaid.js did not load"); });
      return;
    }
    window.mermaid.initialize({
      startOnLoad: false, securityLevel: "strict", theme: "neutral",
      fontFamily: window.getComputedStyle(document.body).fontFamily,
      sequence: { useMaxWidth: true, wrap: false, actorMargin: 24, messageFontSize: 12, actorFontSize: 12 },
      flowchart: { useMaxWidth: true }
    });
    for (var index = 0; index < boxes.length; index++) {  // one after another: mermaid keeps global state
      await diagram(boxes[index], index);
    }
  }

  function figureOf(id) {
    var source = document.getElementById(id);
    if (!source) return null;
    var value = JSON.parse(source.textContent);
    return typeof value === "string" ? JSON.parse(value) : value;
  }

  async function charts() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
    for (var index = 0; index < boxes.length; index++) {
      var box = boxes[index];
      var what = box.getAttribute("data-title") || "A chart";
      try {
        if (!window.Plotly) throw new Error("plotly.js did not load");
        var figure = figureOf(box.getAttribute("data-chart"));
        var layout = Object.assign({}, figure.layout || {}, { width: box.clientWidth || 680 });
        await window.Plotly.newPlot(box, figure.data || [], layout, { staticPlot: true, displayModeBar: false });
        box.setAttribute("data-rendered", "true");
      } catch (error) {
        fail(box, what, error);
      }
    }
  }

  async function run() {
    try {
      await diagrams();
      await charts();
    } finally {
      window.reportReady = true;
      document.documentElement.setAttribute("data-report-ready", "true");
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
