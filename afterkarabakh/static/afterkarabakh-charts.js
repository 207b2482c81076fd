/* The book's chart renderer: draws every chart of a page with the Vega bundle the book serves.
 *
 * Each chart arrives as a Vega-Lite spec (in a <script type="application/json"> beside its box).
 * The renderer reads the width of the chart's column before drawing, wraps titles to it,
 * narrows the plotting areas (maps keep their shape) until the chart fits, stacks side-by-side
 * panels on a phone, and draws again when the column changes width. It also adds the exports
 * (SVG, PNG, named after the chart) and a CSV download of the rows in the chart's data table
 * (each row with its source's id, citation, address, the day it was read and the archive's address).
 * Nothing is fetched: the data are inline.
 */
(function () {
  "use strict";
  if (window.akCharts) { return; }

  var MIN_SCALE = 0.3;      // never narrow a plotting area below this share of its design width
  var STACK_BELOW = 0.8;    // use the stacked variant when the side-by-side one must shrink more
  var NARROW_LEGENDS = 640; // below this column width legends list their entries one per line

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
  async function fit(drawAt, widest, avail) {
    var points = [[1, await drawAt(1)]];
    if (points[0][1] <= avail + 0.5) { return 1; }
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
    if (figure.querySelector(".ak-tools")) { return; }
    var tools = document.createElement("div");
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
    el.insertAdjacentElement("afterend", tools);
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

  async function render(el, record) {
    var avail = el.clientWidth || 560;
    record.avail = avail;
    if (record.result) { record.result.finalize(); record.result = null; record.view = null; }
    el.textContent = "";
    var canvas = document.createElement("div");
    canvas.className = "ak-canvas";
    el.appendChild(canvas);
    var variants = [record.spec];
    var stack = stacked(record.spec);
    if (stack) { variants.push(stack); }
    // Exports are the book's own buttons; a chart's links (href) open in a new tab.
    var options = { renderer: "svg", actions: false, downloadFileName: record.name,
                    loader: { target: "_blank", rel: "noopener noreferrer" } };
    for (var i = 0; i < variants.length; i++) {
      var adapted = adaptSpec(JSON.parse(JSON.stringify(variants[i])), avail);
      var widest = scaledSpec(adapted, 1).__widest;
      var drawAt = async function (scale) {
        if (record.result) { record.result.finalize(); }
        canvas.textContent = "";
        var spec = scaledSpec(adapted, scale);
        delete spec.__widest;
        record.result = await window.vegaEmbed(canvas, spec, options);
        record.view = record.result.view;
        return svgWidth(canvas);
      };
      var scale = await fit(drawAt, widest, avail);
      if (scale >= STACK_BELOW || i === variants.length - 1) { break; }
    }
    quietSvg(canvas);
    el.setAttribute("data-ak-state", "drawn");
    window.akCharts.drawn.push(Math.round(performance.now()));
  }

  async function draw(el) {
    if (!el || el.getAttribute("data-ak-state")) { return; }
    el.setAttribute("data-ak-state", "drawing");
    var source = document.getElementById(el.id + "-spec");
    try {
      if (typeof window.vegaEmbed !== "function") { throw new Error("the Vega library is missing on this page"); }
      var record = { spec: JSON.parse(source.textContent), name: el.getAttribute("data-ak-name") || "chart" };
      el._akRecord = record;
      await render(el, record);
      addTools(el, record);
      if (window.ResizeObserver) {
        var pending = null;
        new ResizeObserver(function () {
          if (window.matchMedia && window.matchMedia("print").matches) { return; }
          if (Math.abs((el.clientWidth || 0) - record.avail) < 4 || !el.clientWidth) { return; }
          clearTimeout(pending);
          pending = setTimeout(function () {
            el.setAttribute("data-ak-state", "drawing");
            render(el, record).catch(function (err) { console.error(err); });
          }, 150);
        }).observe(el);
      }
    } catch (err) {
      el.setAttribute("data-ak-state", "failed");
      el.textContent = "Chart not drawn: " + err.message;
      console.error(err);
    }
  }

  function drawAll() {
    var charts = document.querySelectorAll("div.ak-chart");
    return Promise.all(Array.prototype.map.call(charts, draw));
  }

  window.akCharts = { draw: draw, drawAll: drawAll, drawn: [], started: Math.round(performance.now()) };
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", drawAll); }
  else { drawAll(); }
})();
