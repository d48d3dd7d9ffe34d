/* The topology page: pan and zoom of the server-drawn SVG (svg-pan-zoom), and a tidy address for the
   view controls. Without JavaScript the SVG is shown at its own size in a scrolling box. */
(function () {
  "use strict";

  // The controls form leaves empty fields (and hops without a focus) out of the address.
  var form = document.getElementById("topology-controls");
  if (form) {
    form.addEventListener("submit", function () {
      var focus = form.elements.namedItem("focus");
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!field.name) return;
        var idle = field.name === "hops" && (field.value === "1" || !(focus && focus.value.trim()));
        if (field.value.trim() === "" || idle) field.disabled = true;
      });
    });
    // Back/forward restores the page as it was left: with the fields enabled again.
    window.addEventListener("pageshow", function () {
      Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
    });
  }

  var canvas = document.getElementById("topology-canvas");
  var svg = canvas && canvas.querySelector(".topo-svg > svg");
  if (!svg || typeof window.svgPanZoom !== "function") return;

  // Let the SVG fill the canvas; svg-pan-zoom keeps its aspect ratio through the viewBox.
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("width", "100%");
  svg.setAttribute("height", "100%");
  canvas.classList.add("is-zoomable");

  var MAX_FIRST_SCALE = 1.4; // a small diagram is not blown up past this on load
  var READABLE_SCALE = 0.8; // below this, labels of 11pt are too small to read
  // svg-pan-zoom writes style="overflow: hidden" unless the style already names overflow; a style
  // attribute written that way is refused by the Content-Security-Policy, a property set here is not.
  svg.style.overflow = "hidden";
  var zoom = window.svgPanZoom(svg, {
    zoomEnabled: true,
    controlIconsEnabled: false,
    dblClickZoomEnabled: false,
    mouseWheelZoomEnabled: true,
    preventMouseEventsDefault: true,
    zoomScaleSensitivity: 0.25,
    minZoom: 0.05,
    maxZoom: 40,
    fit: true,
    center: true
  });

  function fitted() {
    zoom.resize();
    zoom.fit();
    zoom.center();
    var real = zoom.getSizes().realZoom;
    if (real > MAX_FIRST_SCALE) {
      zoom.zoom(zoom.getZoom() * MAX_FIRST_SCALE / real);
      zoom.center();
    }
  }

  // Bring elements into view: their bounding box centred, as large as fits (but not past MAX_FIRST_SCALE);
  // with `readable`, a box too big to fit at a readable size (a long column of services) is shown
  // readable instead, from its top.
  // svg-pan-zoom applies a change on the next animation frame, so the box is measured once and the
  // pan worked out from the zoom: zooming by f at the box's centre keeps the centre, scales the size.
  function zoomTo(elements, readable) {
    if (!elements.length) return false;
    var frame = svg.getBoundingClientRect();
    var boxes = elements.map(function (element) { return element.getBoundingClientRect(); });
    var left = Math.min.apply(null, boxes.map(function (b) { return b.left; })) - frame.left;
    var top = Math.min.apply(null, boxes.map(function (b) { return b.top; })) - frame.top;
    var width = Math.max.apply(null, boxes.map(function (b) { return b.right; })) - frame.left - left;
    var height = Math.max.apply(null, boxes.map(function (b) { return b.bottom; })) - frame.top - top;
    var centre = { x: left + width / 2, y: top + height / 2 };
    var real = zoom.getSizes().realZoom;
    var factor = Math.min(0.85 * Math.min(frame.width / width, frame.height / height), MAX_FIRST_SCALE / real);
    if (readable && real * factor < READABLE_SCALE) factor = READABLE_SCALE / real;
    zoom.zoomAtPointBy(factor, centre);
    width *= factor;
    height *= factor;
    zoom.panBy({
      x: width + 48 <= frame.width ? frame.width / 2 - centre.x : 24 - (centre.x - width / 2),
      y: height + 48 <= frame.height ? frame.height / 2 - centre.y : 24 - (centre.y - height / 2)
    });
    return true;
  }

  function titled(selector, names) {
    return Array.prototype.filter.call(svg.querySelectorAll(selector), function (group) {
      var title = group.querySelector(":scope > title");
      return title && names.indexOf(title.textContent) !== -1;
    });
  }

  // After a team was opened from its folder, show that team; in a large view, the services it names.
  function zoomToAsked() {
    var opened = /^#opened-(.+)$/.exec(window.location.hash);
    if (opened) {
      var team = decodeURIComponent(opened[1]);
      var clusters = Array.prototype.filter.call(svg.querySelectorAll("g.cluster"), function (group) {
        var label = group.querySelector("text");
        return label && label.textContent === team;
      });
      if (zoomTo(clusters, true)) return;
    }
    var named = (canvas.getAttribute("data-zoom-to") || "").split(",").filter(Boolean);
    if (named.length) zoomTo(titled("g.node", named), false);  // a chain is shown whole
  }

  function nextFrame(callback) {
    window.requestAnimationFrame(function () { window.requestAnimationFrame(callback); });
  }

  var first = null;
  fitted();
  nextFrame(function () {  // measured once the fit is drawn
    zoomToAsked();
    first = { zoom: zoom.getZoom(), pan: zoom.getPan() };
    nextFrame(function () { canvas.setAttribute("data-ready", "true"); });
  });
  window.topologyZoom = zoom; // for tests and the console

  var actions = {
    "in": function () { zoom.zoomIn(); },
    "out": function () { zoom.zoomOut(); },
    "fit": fitted,
    "reset": function () {
      if (!first) return;
      zoom.zoom(first.zoom);
      zoom.pan(first.pan);
    }
  };
  var buttons = canvas.querySelector(".topo-zoom");
  buttons.hidden = false;
  canvas.querySelector(".topo-hint").hidden = false;
  buttons.addEventListener("click", function (event) {
    var button = event.target.closest("[data-zoom]");
    if (button && actions[button.getAttribute("data-zoom")]) actions[button.getAttribute("data-zoom")]();
  });

  // A drag that starts on a service or a line pans; it must not also follow the link.
  var downAt = null;
  svg.addEventListener("mousedown", function (event) { downAt = [event.clientX, event.clientY]; }, true);
  svg.addEventListener("click", function (event) {
    if (downAt && Math.abs(event.clientX - downAt[0]) + Math.abs(event.clientY - downAt[1]) > 4) {
      event.preventDefault();
      event.stopPropagation();
    }
    downAt = null;
  }, true);

  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(function () { zoom.resize(); }, 150);
  });
})();
