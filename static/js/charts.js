/* Switchboard: draw the Plotly figures the server built (decisions/charts.py).
   <div data-chart="ID"> is drawn from <script type="application/json" id="ID">, which holds the
   figure as JSON text (json_script of fig.to_json()). Needs static/vendor/plotly/plotly.min.js. */
(function () {
  "use strict";

  function figureOf(id) {
    var source = document.getElementById(id);
    if (!source) return null;
    var value = JSON.parse(source.textContent);
    return typeof value === "string" ? JSON.parse(value) : value;  // json_script of a JSON string
  }

  function draw() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var figure = figureOf(element.getAttribute("data-chart"));
      if (!figure) return;
      window.Plotly.newPlot(element, figure.data || [], figure.layout || {}, {
        displayModeBar: false, responsive: true, displaylogo: false,
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
