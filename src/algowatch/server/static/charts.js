// algowatch dashboard charts: SVG drawn here, no libraries. Every chart gets a tooltip
// (and, on time charts, a crosshair) on hover; time charts share one zoom window
// (drag to select, Ctrl/Shift + wheel to zoom around the pointer, double-click to reset).
// Labels of reference lines go into a legend above the plot, never over the data.
"use strict";

const Charts = (() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const zoomListeners = [];
  const pointers = {};  // chart id -> the pointer over it, to keep its tooltip across redraws

  function add(parent, tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  // the chart's box holds: a legend (HTML), the SVG, and the tooltip (HTML)
  function frame(id, legend) {
    const box = document.getElementById(id);
    const w = Math.max(box.clientWidth, 200);
    const h = Math.max(box.clientHeight, 120);
    const legendNode = document.createElement("div");
    legendNode.className = "legend";
    for (const item of legend || []) {
      const span = document.createElement("span");
      span.className = "legend-item";
      const swatch = document.createElement("i");
      swatch.className = "swatch " + item.cls;
      span.append(swatch, document.createTextNode(item.label));
      legendNode.appendChild(span);
    }
    const svg = document.createElementNS(SVG_NS, "svg");
    const plotH = h - (legend && legend.length ? 20 : 0);
    svg.setAttribute("viewBox", `0 0 ${w} ${plotH}`);
    svg.setAttribute("height", plotH);
    const tip = document.createElement("div");
    tip.className = "tooltip";
    tip.hidden = true;
    box.replaceChildren(legendNode, svg, tip);
    svg.addEventListener("mousemove", (event) => { pointers[id] = { clientX: event.clientX, clientY: event.clientY }; });
    svg.addEventListener("mouseleave", () => { delete pointers[id]; });
    return { box, svg, tip, w, h: plotH };
  }

  // after a redraw under the pointer, show the tooltip again where it was
  function replay(c) {
    const p = pointers[c.box.id];
    if (p) c.svg.dispatchEvent(new MouseEvent("mousemove", p));
  }

  function empty(c, message) {
    add(c.svg, "text", { x: c.w / 2, y: c.h / 2, "text-anchor": "middle", class: "empty" }, message);
    c.box.dataset.points = "0";
  }

  function niceRange(lo, hi) {
    if (lo === hi) { const pad = Math.abs(lo) * 0.01 || 1; return [lo - pad, hi + pad]; }
    const pad = (hi - lo) * 0.08;
    return [lo - pad, hi + pad];
  }

  function yAxis(c, pad, ylo, yhi, fmt) {
    const ticks = c.h < 150 ? 2 : 3;
    for (let i = 0; i <= ticks; i++) {
      const v = ylo + (yhi - ylo) * i / ticks;
      const y = pad.t + (c.h - pad.t - pad.b) * (1 - i / ticks);
      add(c.svg, "line", { x1: pad.l, x2: c.w - pad.r, y1: y, y2: y, class: "grid-line" });
      add(c.svg, "text", { x: pad.l - 4, y: y + 4, "text-anchor": "end" }, fmt(v));
    }
  }

  function timeText(ms, span) {
    const iso = new Date(ms).toISOString();
    if (span > 36 * 3600e3) return iso.slice(5, 10) + " " + iso.slice(11, 16);
    return iso.slice(11, 19);
  }

  // x ticks: as many as fit (one per ~110 px), never overlapping
  function xAxis(c, pad, xlo, xhi) {
    const n = Math.max(1, Math.floor((c.w - pad.l - pad.r) / 110));
    for (let i = 0; i <= n; i++) {
      const x = pad.l + (c.w - pad.l - pad.r) * i / n;
      const anchor = i === 0 ? "start" : i === n ? "end" : "middle";
      add(c.svg, "text", { x, y: c.h - 4, "text-anchor": anchor }, timeText(xlo + (xhi - xlo) * i / n, xhi - xlo));
    }
  }

  function showTip(c, px, py, html) {
    c.tip.innerHTML = html;
    c.tip.hidden = false;
    const tw = c.tip.offsetWidth, th = c.tip.offsetHeight;
    const left = px + 12 + tw > c.w ? Math.max(0, px - 12 - tw) : px + 12;
    const top = Math.min(Math.max(0, py - th / 2), Math.max(0, c.box.clientHeight - th));
    c.tip.style.left = left + "px";
    c.tip.style.top = top + "px";
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[ch]));
  }

  function pointerX(c, event) {
    const rect = c.svg.getBoundingClientRect();
    return { x: (event.clientX - rect.left) * c.w / rect.width, y: (event.clientY - rect.top) * c.h / rect.height };
  }

  function nearest(points, x) {
    let lo = 0, hi = points.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (points[mid][0] < x) lo = mid; else hi = mid;
    }
    return Math.abs(points[lo][0] - x) <= Math.abs(points[hi][0] - x) ? points[lo] : points[hi];
  }

  // series: [{points: [[ms, y], ...] sorted by time, cls, name, area}]
  // opts: fmt (y axis and tooltip), legend, hlines [{y, label}], yRange, extraY, view {from, to}
  function line(id, series, opts) {
    const hl = (opts.hlines || []).filter((l) => l.y !== null && l.y !== undefined && Number.isFinite(l.y));
    const legend = series.filter((s) => s.name).map((s) => ({ cls: s.cls, label: s.name }))
      .concat(hl.map((l) => ({ cls: "limit-line", label: l.label })));
    const c = frame(id, legend);
    const view = opts.view;
    const visible = series.map((s) => ({ ...s, points: view ? s.points.filter((p) => p[0] >= view.from && p[0] <= view.to) : s.points }));
    const all = visible.flatMap((s) => s.points);
    if (all.length === 0) { empty(c, opts.emptyText || "waiting for data"); return; }
    const pad = { l: 64, r: 10, t: 8, b: 20 };
    let xlo = view ? view.from : Math.min(...all.map((p) => p[0]));
    let xhi = view ? view.to : Math.max(...all.map((p) => p[0]));
    if (xlo === xhi) { xlo -= 1000; xhi += 1000; }
    const ys = all.map((p) => p[1]).concat(opts.extraY || []).concat(hl.map((l) => l.y));
    const [ylo, yhi] = opts.yRange || niceRange(Math.min(...ys), Math.max(...ys));
    const X = (x) => pad.l + (c.w - pad.l - pad.r) * (x - xlo) / (xhi - xlo);
    const Y = (y) => pad.t + (c.h - pad.t - pad.b) * (1 - (y - ylo) / (yhi - ylo));
    yAxis(c, pad, ylo, yhi, opts.fmt);
    xAxis(c, pad, xlo, xhi);
    for (const l of hl) {
      add(c.svg, "line", { x1: pad.l, x2: c.w - pad.r, y1: Y(l.y), y2: Y(l.y), class: "limit-line" });
    }
    for (const s of visible) {
      if (s.points.length === 0) continue;
      let d = s.points.map((p, i) => `${i ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("");
      if (s.area) {
        const base = Y(Math.max(ylo, 0));
        d += `L${X(s.points[s.points.length - 1][0]).toFixed(1)},${base.toFixed(1)}L${X(s.points[0][0]).toFixed(1)},${base.toFixed(1)}Z`;
      }
      add(c.svg, "path", { d, class: s.cls });
      if (s.points.length === 1) add(c.svg, "circle", { cx: X(s.points[0][0]), cy: Y(s.points[0][1]), r: 3, class: "dot" });
    }
    c.box.dataset.points = String(all.length);
    c.box.dataset.from = String(xlo);
    c.box.dataset.to = String(xhi);
    const cross = add(c.svg, "line", { x1: 0, x2: 0, y1: pad.t, y2: c.h - pad.b, class: "crosshair", visibility: "hidden" });
    const dots = visible.map((s) => add(c.svg, "circle", { r: 3.5, class: "hover-dot " + s.cls, visibility: "hidden" }));
    const select = add(c.svg, "rect", { x: 0, y: pad.t, width: 0, height: c.h - pad.t - pad.b, class: "selection", visibility: "hidden" });
    const toX = (px) => xlo + (px - pad.l) / (c.w - pad.l - pad.r) * (xhi - xlo);
    let dragFrom = null;
    const hide = () => { c.tip.hidden = true; cross.setAttribute("visibility", "hidden"); for (const d of dots) d.setAttribute("visibility", "hidden"); };
    c.svg.addEventListener("mousemove", (event) => {
      const p = pointerX(c, event);
      if (p.x < pad.l || p.x > c.w - pad.r) { hide(); return; }
      const t = toX(p.x);
      let html = `<b>${escapeHtml(new Date(t).toISOString().replace("T", " ").slice(0, 19))} UTC</b>`;
      visible.forEach((s, i) => {
        if (s.points.length === 0) return;
        const q = nearest(s.points, t);
        dots[i].setAttribute("cx", X(q[0])); dots[i].setAttribute("cy", Y(q[1])); dots[i].setAttribute("visibility", "visible");
        html += `<br><i class="swatch ${s.cls}"></i>${escapeHtml(s.name || "value")}: ${escapeHtml(opts.fmt(q[1], true))}`;
      });
      cross.setAttribute("x1", p.x); cross.setAttribute("x2", p.x); cross.setAttribute("visibility", "visible");
      showTip(c, p.x * c.box.clientWidth / c.w, p.y, html);
      if (dragFrom !== null) {
        select.setAttribute("x", Math.min(dragFrom, p.x)); select.setAttribute("width", Math.abs(p.x - dragFrom));
        select.setAttribute("visibility", "visible");
      }
    });
    c.svg.addEventListener("mouseleave", () => { hide(); dragFrom = null; select.setAttribute("visibility", "hidden"); });
    c.svg.addEventListener("mousedown", (event) => { dragFrom = pointerX(c, event).x; event.preventDefault(); });
    c.svg.addEventListener("mouseup", (event) => {
      if (dragFrom === null) return;
      const to = pointerX(c, event).x;
      const [a, b] = [Math.min(dragFrom, to), Math.max(dragFrom, to)];
      dragFrom = null;
      select.setAttribute("visibility", "hidden");
      if (b - a >= 6) setZoom({ from: toX(Math.max(a, pad.l)), to: toX(Math.min(b, c.w - pad.r)) });
    });
    c.svg.addEventListener("wheel", (event) => {
      if (!event.ctrlKey && !event.shiftKey) return;
      event.preventDefault();
      const t = toX(pointerX(c, event).x);
      const factor = event.deltaY < 0 ? 0.7 : 1 / 0.7;
      setZoom({ from: t - (t - xlo) * factor, to: t + (xhi - t) * factor });
    }, { passive: false });
    c.svg.addEventListener("dblclick", () => setZoom(null));
    replay(c);
  }

  // bars: [{label, value, cls, text, tip}]
  function bar(id, bars, opts) {
    const c = frame(id, opts.legend);
    if (bars.length === 0) { empty(c, opts.emptyText || "waiting for data"); return; }
    const pad = { l: 56, r: 8, t: 14, b: 22 };
    const values = bars.map((b) => b.value);
    const lo = Math.min(0, ...values), hi = Math.max(0, ...values);
    const [ylo, yhi] = lo === hi ? [0, 1] : [lo - (lo < 0 ? (hi - lo) * 0.1 : 0), hi + (hi - lo) * 0.1];
    const Y = (y) => pad.t + (c.h - pad.t - pad.b) * (1 - (y - ylo) / (yhi - ylo));
    yAxis(c, pad, ylo, yhi, opts.fmt);
    const slot = (c.w - pad.l - pad.r) / bars.length;
    // value labels only when a slot is wide enough for them; the tooltip always has them
    const roomy = slot >= 44;
    const every = Math.max(1, Math.ceil(34 / slot));
    bars.forEach((b, i) => {
      const x = pad.l + slot * i + slot * 0.15;
      const y0 = Y(0), y1 = Y(b.value);
      add(c.svg, "rect", { x, y: Math.min(y0, y1), width: Math.max(slot * 0.7, 1), height: Math.max(Math.abs(y1 - y0), 1), class: b.cls || "bar" });
      if (i % every === 0) add(c.svg, "text", { x: x + slot * 0.35, y: c.h - 6, "text-anchor": "middle" }, b.label);
      if (roomy && b.text) add(c.svg, "text", { x: x + slot * 0.35, y: b.value >= 0 ? y1 - 3 : y1 + 11, "text-anchor": "middle" }, b.text);
    });
    c.box.dataset.points = String(bars.length);
    const hover = add(c.svg, "rect", { x: 0, y: pad.t, width: slot, height: c.h - pad.t - pad.b, class: "hover-band", visibility: "hidden" });
    c.svg.addEventListener("mousemove", (event) => {
      const p = pointerX(c, event);
      const i = Math.floor((p.x - pad.l) / slot);
      if (i < 0 || i >= bars.length) { c.tip.hidden = true; hover.setAttribute("visibility", "hidden"); return; }
      const b = bars[i];
      hover.setAttribute("x", pad.l + slot * i); hover.setAttribute("visibility", "visible");
      showTip(c, p.x * c.box.clientWidth / c.w, p.y, `<b>${escapeHtml(b.label)}</b><br>${escapeHtml(b.tip || b.text || opts.fmt(b.value))}`);
    });
    c.svg.addEventListener("mouseleave", () => { c.tip.hidden = true; hover.setAttribute("visibility", "hidden"); });
    replay(c);
  }

  // horizontal bars: [{label, value, cls, text, tip}]
  function hbar(id, bars, opts) {
    const c = frame(id, opts.legend);
    if (bars.length === 0) { empty(c, opts.emptyText); return; }
    const pad = { l: 60, r: c.w < 320 ? 70 : 90, t: 6, b: 6 };
    const span = Math.max(...bars.map((b) => Math.abs(b.value))) || 1;
    const mid = pad.l + (c.w - pad.l - pad.r) / 2;
    const half = (c.w - pad.l - pad.r) / 2;
    const row = (c.h - pad.t - pad.b) / bars.length;
    add(c.svg, "line", { x1: mid, x2: mid, y1: pad.t, y2: c.h - pad.b, class: "grid-line" });
    bars.forEach((b, i) => {
      const y = pad.t + row * i + row * 0.15;
      const wid = half * Math.abs(b.value) / span;
      add(c.svg, "rect", { x: b.value >= 0 ? mid : mid - wid, y, width: Math.max(wid, 1), height: Math.max(row * 0.7, 2), class: b.cls });
      add(c.svg, "text", { x: pad.l - 6, y: y + row * 0.45, "text-anchor": "end" }, b.label);
      add(c.svg, "text", { x: c.w - 4, y: y + row * 0.45, "text-anchor": "end" }, b.text);
    });
    c.box.dataset.points = String(bars.length);
    c.svg.addEventListener("mousemove", (event) => {
      const p = pointerX(c, event);
      const i = Math.floor((p.y - pad.t) / row);
      if (i < 0 || i >= bars.length) { c.tip.hidden = true; return; }
      showTip(c, p.x * c.box.clientWidth / c.w, p.y * c.box.clientHeight / c.h, `<b>${escapeHtml(bars[i].label)}</b><br>${escapeHtml(bars[i].tip || bars[i].text)}`);
    });
    c.svg.addEventListener("mouseleave", () => { c.tip.hidden = true; });
    replay(c);
  }

  let zoom = null;
  function setZoom(view) {
    zoom = view && view.to > view.from ? view : null;
    for (const listener of zoomListeners) listener(zoom);
  }

  return {
    line, bar, hbar, setZoom,
    zoom: () => zoom,
    onZoom: (listener) => zoomListeners.push(listener),
  };
})();
window.Charts = Charts;
