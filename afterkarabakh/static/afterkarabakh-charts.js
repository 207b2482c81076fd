/* The book's chart renderer: draws every chart of a page with the Vega bundle the book serves.
 *
 * Each chart arrives as a Vega-Lite spec (in a <script type="application/json"> beside its box)
 * and, in the book, as a still image of it drawn at build time, which the page shows at once.
 * A chart is drawn when it comes near the screen (IntersectionObserver), one chart at a time,
 * yielding to the browser between drawings; the Vega bundle itself is fetched only then, so it
 * never delays the page's first paint. The drawing is made out of sight and replaces the still
 * image in one step.
 *
 * The renderer reads the width of the chart's column before drawing, wraps titles to it,
 * narrows the plotting areas (maps keep their shape) until the chart fits, stacks side-by-side
 * panels on a phone, and draws again when the column changes width or the page changes colour
 * mode (light or dark: the chart's spec says which colours change). It shows tooltips that stay
 * on screen, on hover and on tap (a second tap, or a tap elsewhere, hides them), and adds the
 * exports (SVG, PNG, named after the chart) and a CSV download of the rows in the chart's data
 * table (each row with its source's id, citation, address, the day it was read and the archive's
 * address). Nothing is fetched from another host: the data are inline.
 */
(function () {
  "use strict";
  if (window.akCharts) { return; }

  var MIN_SCALE = 0.3;      // never narrow a plotting area below this share of its design width
  var STACK_BELOW = 0.8;    // use the stacked variant when the side-by-side one must shrink more
  var NARROW_LEGENDS = 640; // below this column width legends list their entries one per line
  var NEAR = "150% 0px";    // a chart is drawn once it is within one and a half screens of view
  // The Vega bundle's address, given by the book on this script's tag (in JupyterLab the bundle
  // comes inline, before this script).
  var BUNDLE = document.currentScript && document.currentScript.getAttribute("data-ak-bundle");

  var measureCanvas = document.createElement("canvas").getContext("2d");

  function textWidth(text, size, weight, font) {
    measureCanvas.font = (weight || "normal") + " " + size + "px " + font;
    return measureCanvas.measureText(text).width;
  }

  /* Wrap title lines to a width; keep the given breaks when they fit; never leave one word alone. */
  function wrapLines(lines, maxWidth, size, weight, font) {
    if (typeof lines === "string") { lines = [lines]; }
    if (!Array.isArray(lines) || !lines.length) { return lines; }
    var fits = lines.every(function (l) { return textWidth(String(l), size, weight, font) <= maxWidth; });
    if (fits) { return lines; }
    var words = lines.join(" ").split(/\s+/).filter(Boolean);
    var out = [], line = "";
    words.forEach(function (word) {
      var candidate = line ? line + " " + word : word;
      if (line && textWidth(candidate, size, weight, font) > maxWidth) { out.push(line); line = word; }
      else { line = candidate; }
    });
    if (line) { out.push(line); }
    var n = out.length;
    if (n >= 2 && out[n - 1].indexOf(" ") < 0) {
      var previous = out[n - 2].split(" ");
      if (previous.length > 2) {
        out[n - 1] = previous.pop() + " " + out[n - 1];
        out[n - 2] = previous.join(" ");
      }
    }
    return out;
  }

  /* Titles wrapped to the column; on a narrow column, legends one entry per line. */
  function adaptSpec(spec, avail) {
    var config = spec.config || (spec.config = {});
    var font = config.font || "sans-serif";
    var titleConfig = config.title || {};
    var room = Math.max(120, avail - 2 * (typeof spec.padding === "number" ? spec.padding : 5) - 6);
    var narrow = avail < NARROW_LEGENDS;
    function wrapTitle(title) {
      if (title.text) {
        title.text = wrapLines(title.text, room, title.fontSize || titleConfig.fontSize || 13,
                               title.fontWeight || titleConfig.fontWeight || "bold", font);
      }
      if (title.subtitle) {
        title.subtitle = wrapLines(title.subtitle, room, title.subtitleFontSize || titleConfig.subtitleFontSize || 12,
                                   title.subtitleFontWeight || titleConfig.subtitleFontWeight || "normal", font);
      }
    }
    function walk(node, key) {
      if (Array.isArray(node)) { node.forEach(function (n) { walk(n); }); return; }
      if (!node || typeof node !== "object") { return; }
      Object.keys(node).forEach(function (k) {
        if (k === "datasets" || k === "data" || k === "values") { return; }
        var value = node[k];
        if (k === "title" && value && typeof value === "object" && !Array.isArray(value)) { wrapTitle(value); }
        else if (k === "title" && (typeof value === "string" || Array.isArray(value)) && (node.field || node.type)) {
          node.title = wrapLines(value, room - 40, (config.axis && config.axis.titleFontSize) || 11, "normal", font);
        } else if (k === "mark" && narrow && (value === "text" || (value && value.type === "text"))) {
          // Labels beside marks are cut short on a phone (the table below has them in full).
          node.mark = Object.assign({ type: "text" }, typeof value === "object" ? value : {},
                                    { limit: Math.round(avail * 0.4) });
        } else if (k === "axis" && narrow && value && typeof value === "object") {
          value.labelLimit = Math.min(value.labelLimit || 180, Math.round(avail * 0.4));
          walk(value, k);
        }
        else if (k === "legend" && narrow && value && typeof value === "object") {
          value.direction = "vertical";
          delete value.columns;
          value.labelLimit = Math.min(value.labelLimit || 240, avail - 60);
        } else { walk(value, k); }
      });
    }
    walk(spec);
    if (narrow) {
      config.legend = config.legend || {};
      config.legend.direction = "vertical";
      config.legend.labelLimit = Math.min(config.legend.labelLimit || 240, avail - 60);
      config.axis = config.axis || {};
      config.axis.labelLimit = Math.min(config.axis.labelLimit || 180, Math.round(avail * 0.4));
    }
    return spec;
  }

  /* The same chart with side-by-side panels stacked (hconcat, facet columns), or null if it has none. */
  function stacked(spec) {
    var changed = false;
    function walk(node) {
      if (Array.isArray(node)) { node.forEach(walk); return; }
      if (!node || typeof node !== "object") { return; }
      if (node.hconcat) { node.vconcat = node.hconcat; delete node.hconcat; changed = true; }
      if (node.concat && node.columns !== 1) { node.columns = 1; changed = true; }
      var facet = node.facet;
      if (facet && node.spec) {
        if (facet.column && !facet.row) {
          facet.row = facet.column; delete facet.column;
          facet.row.header = Object.assign({ labelAngle: 0, labelOrient: "top", labelAnchor: "start",
                                             labelFontWeight: 600 }, facet.row.header || {});
          changed = true;
        } else if (facet.field && node.columns !== 1) { node.columns = 1; changed = true; }
      }
      Object.keys(node).forEach(function (k) { if (k !== "datasets" && k !== "data") { walk(node[k]); } });
    }
    var copy = JSON.parse(JSON.stringify(spec));
    walk(copy);
    return changed ? copy : null;
  }

  /* The chart with its plotting areas narrowed to `scale` of their design width (maps keep their shape).
   * Scaling the Vega-Lite spec and drawing it afresh keeps selections (the timelines' brush) intact,
   * which changing a live view's width signals does not. */
  function scaledSpec(spec, scale) {
    var copy = JSON.parse(JSON.stringify(spec));
    var widest = 0;
    function size(value) { return Math.max(1, Math.floor(value * scale)); }
    function walk(node, inMap) {
      if (Array.isArray(node)) { node.forEach(function (n) { walk(n, inMap); }); return; }
      if (!node || typeof node !== "object") { return; }
      var map = inMap || !!node.projection;
      if (typeof node.width === "number") { widest = Math.max(widest, node.width); node.width = size(node.width); }
      else if (node.width && typeof node.width.step === "number") { node.width.step = Math.max(1, node.width.step * scale); }
      if (map && typeof node.height === "number") { node.height = size(node.height); }
      ["layer", "vconcat", "hconcat", "concat", "spec"].forEach(function (k) { if (node[k]) { walk(node[k], map); } });
    }
    walk(copy, false);
    var view = (copy.config = copy.config || {}).view = Object.assign({}, (copy.config || {}).view);
    var continuous = typeof view.continuousWidth === "number" ? view.continuousWidth : 300;
    widest = Math.max(widest, continuous);
    view.continuousWidth = size(continuous);
    // Discrete x axes without a width take their step from here (Vega-Lite's default is 20 px).
    var step = view.discreteWidth && typeof view.discreteWidth.step === "number" ? view.discreteWidth.step
      : (typeof view.step === "number" ? view.step : 20);
    if (typeof view.discreteWidth !== "number") { view.discreteWidth = { step: Math.max(1, step * scale) }; }
    copy.__widest = widest;
    return copy;
  }

  function svgWidth(container) {
    var svg = container.querySelector("svg");
    return svg ? parseFloat(svg.getAttribute("width")) || svg.getBoundingClientRect().width : 0;
  }

  /* Narrow the plotting areas until the chart fits the column; returns the scale used.
   * The drawn width is close to linear in the scale (plot areas scale, axis labels and titles do
   * not), so each step solves the line through the last two measurements for the column's width. */
  async function fit(drawAt, widest, avail, guess) {
    // The still image's width is the chart's width at scale 1: when it is wider than the column,
    // the first drawing can already be a narrowed one.
    var points;
    if (guess && guess > avail + 0.5) { points = [[1, guess]]; }
    else {
      points = [[1, await drawAt(1)]];
      await pause();
      if (points[0][1] <= avail + 0.5) { return 1; }
    }
    var best = null, scale = 1;
    for (var i = 0; i < 5; i++) {
      var last = points[points.length - 1], next;
      if (points.length === 1) {
        next = (avail - (last[1] - widest)) / widest;
        if (!(next < 1)) { next = 0.8; }
      } else {
        var prev = points[points.length - 2];
        var slope = (last[1] - prev[1]) / (last[0] - prev[0]);
        next = slope > 1 ? last[0] + (avail - 1 - last[1]) / slope : (last[1] > avail ? last[0] * 0.7 : last[0]);
      }
      next = Math.min(1, Math.max(MIN_SCALE, next));
      if (Math.abs(next - scale) < 0.004) { break; }
      scale = next;
      var drawn = await drawAt(scale);
      await pause();
      points.push([scale, drawn]);
      if (drawn <= avail + 0.5 && (!best || scale > best[0])) { best = [scale, drawn]; }
      if (drawn <= avail + 0.5 && avail - drawn < 8) { break; }
      if (drawn > avail && scale <= MIN_SCALE) { break; }
    }
    var chosen = best ? best[0] : MIN_SCALE;
    if (chosen !== scale) { await drawAt(chosen); }
    return chosen;
  }

  function download(url, filename) {
    var a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function csvCell(text) {
    return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function tableCsv(table) {
    var lines = [];
    Array.prototype.forEach.call(table.rows, function (row, index) {
      var cells = [];
      Array.prototype.forEach.call(row.cells, function (cell) {
        var text = cell.textContent.trim();
        var robust = null; // the citation's address, the day it was read, the archive's address
        if (index === 0 && text === "Source") { cells.push("source_id"); robust = ["url", "accessed", "archive_url"]; }
        else if (index > 0 && cell.hasAttribute("data-source")) {
          // The numbered reference becomes the source's id and its full citation.
          cells.push(csvCell(cell.getAttribute("data-source")));
          var link = cell.querySelector("a[href^='#']");
          var entry = link ? document.getElementById(link.getAttribute("href").slice(1)) : null;
          var original = entry ? entry.querySelector("a[data-versionurl]") : null;
          robust = original ? ["href", "data-versiondate", "data-versionurl"].map(function (a) {
            return original.getAttribute(a) || "";
          }) : ["", "", ""];
          if (original) { text = original.textContent.trim(); }
          else if (entry) { text = entry.textContent.trim(); }
        }
        cells.push(csvCell(text));
        if (robust) { robust.forEach(function (value) { cells.push(csvCell(value)); }); }
      });
      lines.push(cells.join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  function addTools(el, record) {
    var figure = el.parentNode;
    // The book keeps an empty row for the exports under each chart, so adding them moves nothing.
    var slot = figure.querySelector(".ak-tools");
    if (slot && slot.childElementCount) { return; }
    var tools = slot || document.createElement("div");
    tools.className = "ak-tools";
    [["svg", "Save chart as SVG"], ["png", "Save chart as PNG"]].forEach(function (pair) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "ak-export";
      button.textContent = pair[1];
      button.addEventListener("click", function () {
        record.view.toImageURL(pair[0], pair[0] === "png" ? 2 : 1).then(function (url) {
          download(url, record.name + "." + pair[0]);
        });
      });
      tools.appendChild(button);
    });
    if (!slot) { el.insertAdjacentElement("afterend", tools); }
    var tables = figure.querySelectorAll("details.ak-data table");
    Array.prototype.forEach.call(tables, function (table, index) {
      var link = document.createElement("a");
      link.className = "ak-csv";
      link.href = "#";
      link.download = record.name + (tables.length > 1 ? "-" + (index + 1) : "") + ".csv";
      link.textContent = "Download these rows (CSV)";
      link.addEventListener("click", function () {
        var blob = new Blob([tableCsv(table)], { type: "text/csv;charset=utf-8" });
        link.href = URL.createObjectURL(blob);
      });
      var p = document.createElement("p");
      p.className = "ak-csv-line";
      p.appendChild(link);
      var after = table.parentNode;
      if (after.nextElementSibling && after.nextElementSibling.classList.contains("ak-sources")) { after = after.nextElementSibling; }
      after.insertAdjacentElement("afterend", p);
    });
  }

  function quietSvg(container) {
    var svg = container.querySelector("svg");
    if (!svg) { return; }
    // The chart's box carries its description; the drawing itself is not read out a second time.
    ["role", "aria-label", "aria-roledescription"].forEach(function (a) { svg.removeAttribute(a); });
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
  }

  /* Yield to the browser (input, painting) between two pieces of work. */
  function pause() {
    if (window.scheduler && typeof window.scheduler.yield === "function") { return window.scheduler.yield(); }
    return new Promise(function (resolve) { setTimeout(resolve, 0); });
  }

  /* --- colour mode ------------------------------------------------------------------------ */

  /* The page's mode: the PyData theme's data-theme on <html>; in JupyterLab, its theme. */
  function isDark() {
    var theme = document.documentElement.getAttribute("data-theme");
    if (theme) { return theme === "dark"; }
    return !!(document.body && document.body.getAttribute("data-jp-theme-light") === "false");
  }

  function merge(base, extra) {
    var out = Object.assign({}, base);
    Object.keys(extra).forEach(function (k) {
      var v = extra[k];
      out[k] = v && typeof v === "object" && !Array.isArray(v) && out[k] && typeof out[k] === "object"
        ? merge(out[k], v) : v;
    });
    return out;
  }

  /* The spec as drawn on a dark page: the colours it names swapped for their dark counterparts
   * (hex codes also in the data, names only outside it) and the dark configuration added; the
   * book's Python does the same for the still image (charts.in_dark_mode). */
  function inMode(spec, dark) {
    var mode = ((spec.usermeta || {}).afterkarabakh || {}).dark;
    if (!dark || !mode) { return spec; }
    var colours = mode.colours || {};
    function swap(node, inData) {
      if (Array.isArray(node)) { return node.map(function (v) { return swap(v, inData); }); }
      if (node && typeof node === "object") {
        var out = {};
        Object.keys(node).forEach(function (k) {
          out[k] = swap(node[k], inData || k === "datasets" || k === "data" || k === "values");
        });
        return out;
      }
      if (typeof node === "string" && Object.prototype.hasOwnProperty.call(colours, node) &&
          (!inData || node.charAt(0) === "#")) { return colours[node]; }
      return node;
    }
    var out = swap(spec, false);
    out.config = merge(out.config || {}, mode.config || {});
    return out;
  }

  /* --- tooltips ---------------------------------------------------------------------------- */

  var tip = null, pinned = null, tapping = false, lastPointer = "mouse", shownAt = 0;

  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function tipElement() {
    if (!tip) {
      tip = document.createElement("div");
      tip.id = "ak-tooltip";
      tip.className = "ak-tooltip";
      tip.setAttribute("role", "tooltip");
      document.body.appendChild(tip);
    }
    return tip;
  }

  function tipContent(value, href) {
    var rows = [], html;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      var title = value.title;
      Object.keys(value).forEach(function (k) {
        if (k === "title") { return; }
        var v = value[k];
        // A missing value (Vega-Lite writes it as "null") is left out: it says nothing to a reader.
        if (v === undefined || v === null || v === "" || v === "null" || v === "NaN" || v === "undefined") { return; }
        rows.push("<tr><th scope=\"row\">" + escapeHtml(k) + "</th><td>" +
          escapeHtml(typeof v === "object" ? JSON.stringify(v) : v) + "</td></tr>");
      });
      html = (title ? "<p class=\"ak-tooltip-title\">" + escapeHtml(title) + "</p>" : "") +
        (rows.length ? "<table>" + rows.join("") + "</table>" : "");
    } else {
      html = "<p>" + escapeHtml(Array.isArray(value) ? value.join(", ") : value) + "</p>";
    }
    if (href && /^https?:\/\//.test(href)) {
      html += "<p class=\"ak-tooltip-link\"><a href=\"" + escapeHtml(href) +
        "\" target=\"_blank\" rel=\"noopener noreferrer\">Open the source</a></p>";
    }
    return html;
  }

  /* Place the tooltip beside the pointer, wholly inside the window: below and right of it if it
   * fits, else above or left; on a narrow screen, as wide as the screen allows and never cut. */
  function placeTip(x, y) {
    var el = tipElement(), pad = 8, gap = 12;
    var vw = document.documentElement.clientWidth || window.innerWidth;
    var vh = window.innerHeight;
    el.style.maxWidth = Math.max(120, Math.min(360, vw - 2 * pad)) + "px";
    el.style.maxHeight = Math.max(80, vh - 2 * pad) + "px";
    el.style.left = "0px"; el.style.top = "0px";
    var box = el.getBoundingClientRect();
    var left = x + gap;
    if (left + box.width > vw - pad) { left = x - gap - box.width; }
    if (left < pad) { left = Math.min(Math.max(pad, x - box.width / 2), vw - pad - box.width); }
    var top = y + gap;
    if (top + box.height > vh - pad) { top = y - gap - box.height; }
    if (top < pad) { top = Math.max(pad, vh - pad - box.height); }
    el.style.left = Math.round(Math.max(pad, left)) + "px";
    el.style.top = Math.round(Math.max(pad, top)) + "px";
  }

  function showTip(value, event, href) {
    var el = tipElement();
    el.innerHTML = tipContent(value, href);
    el.classList.toggle("ak-tooltip-dark", isDark());
    el.classList.add("ak-tooltip-visible");
    placeTip(event.clientX, event.clientY);
    shownAt = window.scrollY;
  }

  function hideTip() {
    pinned = null;
    if (tip) { tip.classList.remove("ak-tooltip-visible", "ak-tooltip-pinned"); }
  }

  /* Vega's tooltip handler: on hover (mouse, pen) the tooltip follows the pointer over a mark;
   * a tap is handled by the chart's click listener, which pins it until the next tap. */
  function tooltipHandler(handler, event, item, value) {
    if (tapping) {
      if (value === null || value === undefined || value === "") { hideTip(); return; }
      if (pinned && pinned.item === item) { hideTip(); return; }
      showTip(value, event, item && item.href);
      pinned = { item: item };
      tipElement().classList.add("ak-tooltip-pinned");
      return;
    }
    if (pinned || lastPointer === "touch") { return; }
    if (value === null || value === undefined || value === "") { hideTip(); return; }
    showTip(value, event, null);
  }

  function onChartClick(record, event, item) {
    if ((event.pointerType || lastPointer) !== "touch") { return; }
    var handler = record.view && record.view._handler;
    tapping = true;
    try {
      if (handler && typeof handler.handleTooltip === "function") {
        // Vega's own choice of the mark under the finger (the nearest point of a line or area).
        handler.handleTooltip(event, item, true);
      } else {
        tooltipHandler(null, event, item, item && item.tooltip);
      }
    } finally { tapping = false; }
  }

  document.addEventListener("pointerover", function (event) {
    lastPointer = event.pointerType || "mouse";
  }, { capture: true, passive: true });
  document.addEventListener("pointerdown", function (event) {
    lastPointer = event.pointerType || "mouse";
    if (!tip || !tip.classList.contains("ak-tooltip-visible")) { return; }
    var target = event.target;
    if (tip.contains(target)) { return; }                        // a link in the tooltip
    if (target.closest && target.closest("div.ak-chart svg")) { return; } // the chart decides
    hideTip();                                                     // a tap elsewhere
  }, { capture: true, passive: true });
  window.addEventListener("scroll", function () {
    if (tip && tip.classList.contains("ak-tooltip-visible") && Math.abs(window.scrollY - shownAt) > 40) { hideTip(); }
  }, { passive: true });

  /* On a touch screen a tap on a linked mark (a timeline's event) shows its tooltip, which holds
   * the link, instead of leaving the page at once; a mouse click still opens the link. */
  function guardLinks(loader) {
    if (!loader || loader._akGuarded) { return loader; }
    var sanitize = loader.sanitize;
    loader.sanitize = function (uri, options) {
      if (options && options.context === "href" && lastPointer === "touch") {
        return Promise.reject(new Error("a tap shows the tooltip first"));
      }
      return sanitize.call(loader, uri, options);
    };
    loader._akGuarded = true;
    return loader;
  }

  var LINKS = { target: "_blank", rel: "noopener noreferrer" }; // a chart's links open in a new tab
  var sharedLoader = null;

  /* Draw a Vega-Lite spec into a box in four tasks (compile; parse and set up the view; run the
   * data flow; draw the SVG), yielding between them so that no drawing holds the page for long;
   * with vega-embed, in one task, when the bundle does not expose Vega and Vega-Lite. */
  async function embed(box, spec) {
    var vega = window.vega, vegaLite = window.vegaLite;
    if (!(vega && typeof vega.View === "function" && vegaLite && typeof vegaLite.compile === "function")) {
      var embedded = await window.vegaEmbed(box, spec, { renderer: "svg", actions: false, loader: LINKS,
                                                         tooltip: tooltipHandler });
      guardLinks(embedded.view.loader());
      return embedded;
    }
    var compiled = vegaLite.compile(spec).spec;
    await pause();
    sharedLoader = sharedLoader || guardLinks(vega.loader(LINKS));
    var view = new vega.View(vega.parse(compiled), { renderer: "none", hover: true,
                                                     loader: sharedLoader, tooltip: tooltipHandler });
    await pause();
    await view.runAsync();          // the data flow and the layout
    await pause();
    view.renderer("svg").initialize(box);
    await view.runAsync();          // the drawing
    return { view: view, finalize: function () { view.finalize(); } };
  }

  /* --- drawing ----------------------------------------------------------------------------- */

  async function render(el, record) {
    var avail = el.clientWidth || 560;
    var dark = isDark();
    // Drawn out of sight at the column's width, then swapped for what the box shows (the still
    // image, or the previous drawing) in one step: the page never shows the fitting.
    var work = document.createElement("div");
    work.className = "ak-canvas ak-work";
    work.style.width = avail + "px";
    el.appendChild(work);
    var base = inMode(record.spec, dark);
    var variants = [base];
    var stack = stacked(base);
    if (stack) { variants.push(stack); }
    var result = null;
    try {
      for (var i = 0; i < variants.length; i++) {
        var adapted = adaptSpec(JSON.parse(JSON.stringify(variants[i])), avail);
        var widest = scaledSpec(adapted, 1).__widest;
        var drawAt = async function (scale) {
          if (result) { result.finalize(); result = null; }
          work.textContent = "";
          var spec = scaledSpec(adapted, scale);
          delete spec.__widest;
          result = await embed(work, spec);
          return svgWidth(work);
        };
        var guess = i === 0 ? record.stillWidth : 0;
        if (guess && i < variants.length - 1 && guess > avail &&
            (avail - (guess - widest)) / widest < STACK_BELOW) { continue; } // stacked, surely
        var scale = await fit(drawAt, widest, avail, guess);
        if (scale >= STACK_BELOW || i === variants.length - 1) { break; }
      }
    } catch (err) {
      if (result) { result.finalize(); }
      work.remove();
      throw err;
    }
    var previous = record.result;
    Array.prototype.slice.call(el.children).forEach(function (child) {
      if (child !== work && child.tagName !== "NOSCRIPT") { child.remove(); }
    });
    if (previous) { previous.finalize(); }
    work.className = "ak-canvas";
    work.style.width = "";
    record.result = result;
    record.view = result.view;
    record.avail = avail;
    record.dark = dark;
    record.view.addEventListener("click", function (event, item) { onChartClick(record, event, item); });
    quietSvg(work);
  }

  /* --- when to draw ------------------------------------------------------------------------ */

  var queue = [], running = false, near = new WeakMap(), bundle = null, idle = [];

  function loadBundle() {
    if (typeof window.vegaEmbed === "function") { return Promise.resolve(); }
    if (!bundle) {
      bundle = new Promise(function (resolve, reject) {
        if (!BUNDLE) { reject(new Error("the Vega library is missing on this page")); return; }
        var script = document.createElement("script");
        script.src = BUNDLE;
        script.onload = function () { resolve(); };
        script.onerror = function () { reject(new Error("the Vega library could not be loaded")); };
        document.head.appendChild(script);
      });
    }
    return bundle;
  }

  function needsDrawing(el) {
    var state = el.getAttribute("data-ak-state");
    if (state === "failed") { return false; }
    var record = el._akRecord;
    if (!record || !record.result) { return true; }
    return record.dark !== isDark() || (el.clientWidth && Math.abs(el.clientWidth - record.avail) >= 4);
  }

  /* Distance from the middle of the screen: the chart the reader is looking at is drawn first. */
  function distance(el) {
    var box = el.getBoundingClientRect();
    return Math.abs(box.top + box.height / 2 - window.innerHeight / 2);
  }

  async function drawOne(el) {
    var record = el._akRecord;
    var first = !record;
    if (first) {
      var source = document.getElementById(el.id + "-spec");
      var still = el.querySelector("div.ak-static img");
      record = el._akRecord = { spec: JSON.parse(source.textContent), name: el.getAttribute("data-ak-name") || "chart",
                                stillWidth: still ? parseFloat(still.getAttribute("width")) || 0 : 0 };
    }
    if (!record.result) { el.setAttribute("data-ak-state", "drawing"); }
    var started = performance.now();
    await render(el, record);
    window.akCharts.windows.push([Math.round(started), Math.round(performance.now())]);
    if (first) {
      addTools(el, record);
      if (window.ResizeObserver) {
        var pending = null;
        new ResizeObserver(function () {
          if (window.matchMedia && window.matchMedia("print").matches) { return; }
          if (!el.clientWidth || Math.abs(el.clientWidth - record.avail) < 4) { return; }
          clearTimeout(pending);
          pending = setTimeout(function () { if (near.get(el)) { enqueue(el); } }, 150);
        }).observe(el);
      }
    }
    el.setAttribute("data-ak-state", "drawn");
    window.akCharts.drawn.push(Math.round(performance.now()));
  }

  async function run() {
    if (running) { return; }
    running = true;
    try {
      var started = performance.now();
      try { await loadBundle(); } catch (err) {
        queue.splice(0).forEach(function (el) { fail(el, err); });
        return;
      }
      if (!window.akCharts.bundleLoaded) {
        window.akCharts.bundleLoaded = [Math.round(started), Math.round(performance.now())];
      }
      while (queue.length) {
        queue.sort(function (a, b) { return distance(a) - distance(b); });
        var el = queue.shift();
        if (!needsDrawing(el)) { continue; }
        try { await drawOne(el); } catch (err) { fail(el, err); }
        await pause();
      }
    } finally {
      running = false;
      if (queue.length) { run(); }
      else { idle.splice(0).forEach(function (resolve) { resolve(); }); }
    }
  }

  function fail(el, err) {
    el.setAttribute("data-ak-state", "failed");
    el.textContent = "Chart not drawn: " + err.message;
    console.error(err);
  }

  function enqueue(el) {
    if (queue.indexOf(el) < 0) { queue.push(el); }
    run();
  }

  /* Draw one chart now (JupyterLab draws each output as it appears). */
  function draw(el) {
    if (!el || el.getAttribute("data-ak-state") === "drawn") { return Promise.resolve(); }
    near.set(el, true);
    enqueue(el);
    return whenIdle();
  }

  function whenIdle() {
    if (!running && !queue.length) { return Promise.resolve(); }
    return new Promise(function (resolve) { idle.push(resolve); });
  }

  /* Every chart of the page, near the screen or not (printing, tests). */
  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("div.ak-chart"), function (el) {
      near.set(el, true);
      if (needsDrawing(el)) { enqueue(el); }
    });
    return whenIdle();
  }

  var observer = window.IntersectionObserver ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      near.set(entry.target, entry.isIntersecting);
      if (entry.isIntersecting && needsDrawing(entry.target)) { enqueue(entry.target); }
    });
  }, { rootMargin: NEAR }) : null;

  function watch() {
    Array.prototype.forEach.call(document.querySelectorAll("div.ak-chart"), function (el) {
      if (el._akWatched) { return; }
      el._akWatched = true;
      if (observer) { observer.observe(el); } else { draw(el); }
    });
  }

  // A change of colour mode redraws the charts near the screen now, the others when they come near.
  var modeWatch = new MutationObserver(function () {
    hideTip();
    Array.prototype.forEach.call(document.querySelectorAll("div.ak-chart"), function (el) {
      if (near.get(el) && needsDrawing(el)) { enqueue(el); }
    });
  });
  modeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  if (document.body) {  // JupyterLab's theme
    modeWatch.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light"] });
  }

  window.akCharts = { draw: draw, drawAll: drawAll, drawn: [], windows: [], bundleLoaded: null,
                      started: Math.round(performance.now()) };
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", watch); }
  else { watch(); }
})();
