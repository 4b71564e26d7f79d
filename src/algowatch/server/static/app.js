// algowatch dashboard: plain JavaScript, SVG charts drawn here, no libraries, no network
// access beyond this service. Live data: GET /api/v1/snapshot once, then the SSE stream
// /api/v1/stream ("snapshot" events); orders and the risk guard (with the health report it
// judged) are polled every two seconds.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const POLL_MS = 2000;
const MAX_LIVE_POINTS = 2000;
const SLIPPAGE_EDGES = [-10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50];

const state = {
  snapshot: null,
  risk: null,
  orders: [],
  live: [],          // [ms, equity] from each snapshot, to draw between equity_curve samples
  latency: [],       // [ms, fillP50, fillP95] history
  updates: 0,
};
window.algowatch = state;

// ------------------------------------------------------------------ formatting

function money(v, sign) {
  const text = "$" + Math.abs(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  if (v < 0) return "-" + text;
  return (sign && v > 0 ? "+" : "") + text;
}

function format(v, kind, sign) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  switch (kind) {
    case "money": return money(v, sign);
    case "percent": return (v * 100).toFixed(2) + "%";
    case "ratio": return v.toFixed(2);
    case "integer": return Math.round(v).toLocaleString("en-US");
    case "bps": return v.toFixed(2) + " bps";
    case "ms": return v.toFixed(1) + " ms";
    case "seconds": return v.toFixed(1) + " s";
    default: return String(v);
  }
}

function pick(obj, path) {
  let node = obj;
  for (const key of path.split(".")) {
    if (node === null || node === undefined) return null;
    node = node[key];
  }
  return node === undefined ? null : node;
}

function parseTs(text) {
  // RFC 3339 with up to nanoseconds -> milliseconds (fraction kept below 1 ms)
  const base = Date.parse(text.slice(0, 19) + "Z");
  const m = /\.(\d+)/.exec(text);
  return base + (m ? Number("0." + m[1]) * 1000 : 0);
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function pill(text) {
  return el("span", { class: "pill pill-" + String(text).replace(/[^a-z_]/gi, "") }, text);
}

// ------------------------------------------------------------------ SVG charts

function canvas(id) {
  const box = document.getElementById(id);
  const w = Math.max(box.clientWidth, 200);
  const h = Math.max(box.clientHeight, 120);
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("preserveAspectRatio", "none");
  box.replaceChildren(svg);
  return { box, svg, w, h };
}

function add(svg, tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  svg.appendChild(node);
  return node;
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

function axes(c, pad, ylo, yhi, fmt) {
  for (let i = 0; i <= 3; i++) {
    const v = ylo + (yhi - ylo) * i / 3;
    const y = pad.t + (c.h - pad.t - pad.b) * (1 - i / 3);
    add(c.svg, "line", { x1: pad.l, x2: c.w - pad.r, y1: y, y2: y, class: "grid-line" });
    add(c.svg, "text", { x: pad.l - 4, y: y + 4, "text-anchor": "end" }, fmt(v));
  }
}

function timeLabel(ms) {
  return new Date(ms).toISOString().slice(11, 19);
}

// series: [{points: [[x, y], ...], cls}], all x in ms
function lineChart(id, series, opts) {
  const c = canvas(id);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) { empty(c, opts.emptyText || "waiting for data"); return; }
  const pad = { l: 64, r: 10, t: 8, b: 20 };
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).concat(opts.extraY || []);
  let xlo = Math.min(...xs), xhi = Math.max(...xs);
  if (xlo === xhi) { xlo -= 1000; xhi += 1000; }
  let [ylo, yhi] = opts.yRange || niceRange(Math.min(...ys), Math.max(...ys));
  const X = (x) => pad.l + (c.w - pad.l - pad.r) * (x - xlo) / (xhi - xlo);
  const Y = (y) => pad.t + (c.h - pad.t - pad.b) * (1 - (y - ylo) / (yhi - ylo));
  axes(c, pad, ylo, yhi, opts.fmt);
  add(c.svg, "text", { x: pad.l, y: c.h - 4 }, timeLabel(xlo));
  add(c.svg, "text", { x: c.w - pad.r, y: c.h - 4, "text-anchor": "end" }, timeLabel(xhi));
  for (const line of opts.hlines || []) {
    if (line.y >= ylo && line.y <= yhi) {
      add(c.svg, "line", { x1: pad.l, x2: c.w - pad.r, y1: Y(line.y), y2: Y(line.y), class: "limit-line" });
      add(c.svg, "text", { x: c.w - pad.r - 2, y: Y(line.y) - 3, "text-anchor": "end" }, line.label);
    }
  }
  for (const s of series) {
    if (s.points.length === 0) continue;
    let d = s.points.map((p, i) => `${i ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("");
    if (s.area) {
      d += `L${X(s.points[s.points.length - 1][0]).toFixed(1)},${Y(0).toFixed(1)}L${X(s.points[0][0]).toFixed(1)},${Y(0).toFixed(1)}Z`;
    }
    add(c.svg, "path", { d, class: s.cls });
    if (s.points.length === 1) {
      add(c.svg, "circle", { cx: X(s.points[0][0]), cy: Y(s.points[0][1]), r: 3, class: "bar" });
    }
  }
  c.box.dataset.points = String(all.length);
}

// bars: [{label, value, cls, text}]
function barChart(id, bars, opts) {
  const c = canvas(id);
  if (bars.length === 0) { empty(c, opts.emptyText || "waiting for data"); return; }
  const pad = { l: 56, r: 8, t: 14, b: 22 };
  const values = bars.map((b) => b.value);
  const lo = Math.min(0, ...values), hi = Math.max(0, ...values);
  const [ylo, yhi] = lo === hi ? [0, 1] : [lo, hi + (hi - lo) * 0.1];
  const Y = (y) => pad.t + (c.h - pad.t - pad.b) * (1 - (y - ylo) / (yhi - ylo));
  axes(c, pad, ylo, yhi, opts.fmt);
  const slot = (c.w - pad.l - pad.r) / bars.length;
  bars.forEach((b, i) => {
    const x = pad.l + slot * i + slot * 0.15;
    const y0 = Y(0), y1 = Y(b.value);
    add(c.svg, "rect", { x, y: Math.min(y0, y1), width: Math.max(slot * 0.7, 1), height: Math.max(Math.abs(y1 - y0), 1), class: b.cls || "bar" });
    add(c.svg, "text", { x: x + slot * 0.35, y: c.h - 6, "text-anchor": "middle" }, b.label);
    add(c.svg, "text", { x: x + slot * 0.35, y: Math.min(y0, y1) - 3, "text-anchor": "middle" }, b.text ?? "");
  });
  c.box.dataset.points = String(bars.length);
}

// horizontal bars for positions: [{label, value, cls, text}]
function hbarChart(id, bars, opts) {
  const c = canvas(id);
  if (bars.length === 0) { empty(c, opts.emptyText); return; }
  const pad = { l: 60, r: 90, t: 6, b: 6 };
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
}

// ------------------------------------------------------------------ views

function equitySeries(snap) {
  const curve = (snap.equity_curve || []).map(([ts, v]) => [parseTs(ts), v]).filter((p) => p[1] !== null);
  const last = curve.length ? curve[curve.length - 1][0] : -Infinity;
  return curve.concat(state.live.filter((p) => p[0] > last));
}

function renderFields(snap) {
  for (const node of document.querySelectorAll("[data-field]")) {
    const v = pick(snap, node.dataset.field);
    node.textContent = format(v, node.dataset.format, node.hasAttribute("data-sign"));
    node.dataset.value = v === null ? "null" : String(v);
    node.classList.toggle("pos", node.hasAttribute("data-sign") && v > 0);
    node.classList.toggle("neg", node.hasAttribute("data-sign") && v < 0);
  }
}

function renderEquity(snap, series) {
  const t = snap.trading || {};
  const hlines = [];
  if (t.high_water_mark !== null && t.high_water_mark !== undefined) hlines.push({ y: t.high_water_mark, label: "high-water mark" });
  lineChart("chart-equity", [{ points: series, cls: "series" }], { fmt: (v) => money(Math.round(v), false).replace(".00", ""), hlines, extraY: t.starting_capital ? [t.starting_capital] : [] });
}

function renderDrawdown(snap, series) {
  let peak = pick(snap, "trading.starting_capital") || (series.length ? series[0][1] : 0);
  const points = series.map(([x, v]) => { peak = Math.max(peak, v); return [x, peak > 0 ? Math.max(0, 1 - v / peak) : 0]; });
  const limit = pick(state.risk, "configured_limits.max_drawdown");
  const top = Math.max(0.01, ...points.map((p) => p[1]), limit || 0) * 1.1;
  lineChart("chart-drawdown", [{ points, cls: "area-bad", area: true }], {
    fmt: (v) => (v * 100).toFixed(1) + "%", yRange: [0, top],
    hlines: limit ? [{ y: limit, label: "limit " + (limit * 100).toFixed(0) + "%" }] : [],
  });
}

function renderDaily(snap, series) {
  const byDay = new Map();
  for (const [x, v] of series) byDay.set(new Date(x).toISOString().slice(0, 10), v);
  let previous = pick(snap, "trading.starting_capital");
  const bars = [];
  for (const [day, v] of byDay) {
    if (previous !== null) bars.push({ label: day.slice(5), value: v - previous });
    previous = v;
  }
  const today = pick(snap, "trading.daily_pnl");
  if (today !== null && bars.length) bars[bars.length - 1].value = today;
  for (const b of bars) { b.cls = b.value >= 0 ? "bar-pos" : "bar-neg"; b.text = money(b.value, true); }
  barChart("chart-daily", bars.slice(-14), { fmt: (v) => money(Math.round(v), false).replace(".00", "") });
}

function renderPositions(snap) {
  const bars = (snap.positions || []).map((p) => ({
    label: p.symbol,
    value: p.market_value ?? 0,
    cls: (p.market_value ?? 0) >= 0 ? "bar-pos" : "bar-neg",
    text: money(p.market_value ?? 0, true),
  }));
  hbarChart("chart-positions", bars, { emptyText: "flat: no open positions" });
}

function renderOrders(snap) {
  const e = snap.execution || {};
  const rows = [
    ["filled", e.orders_filled, "bar-pos"], ["partial", e.orders_partially_filled, "bar-warn"],
    ["canceled", e.orders_canceled, "bar-muted"], ["rejected", e.orders_rejected, "bar-neg"],
    ["open", e.orders_open, "bar"],
  ];
  const bars = rows.filter((r) => r[1] !== null && r[1] !== undefined).map(([label, value, cls]) => ({ label, value, cls, text: String(value) }));
  barChart("chart-orders", bars, { fmt: (v) => Math.round(v).toString() });
}

function renderSignals(snap) {
  const bars = [];
  for (const [name, views] of Object.entries(snap.by_strategy || {})) {
    const acc = pick(views, "signals.signal_accuracy");
    if (acc === null) continue;
    bars.push({ label: name, value: acc, cls: acc >= 0.5 ? "bar-pos" : "bar-neg", text: (acc * 100).toFixed(0) + "% of " + pick(views, "signals.outcomes_total") });
  }
  barChart("chart-signals", bars, { fmt: (v) => (v * 100).toFixed(0) + "%", emptyText: "no signal outcomes yet" });
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function renderOrderDetails() {
  const acks = [], fills = [], slips = [];
  for (const o of state.orders) {
    const sub = o.submitted_time ? parseTs(o.submitted_time) : null;
    if (sub !== null && o.acknowledged_time) acks.push(parseTs(o.acknowledged_time) - sub);
    if (sub !== null && o.status === "filled" && o.updated_time) fills.push(parseTs(o.updated_time) - sub);
    if (o.slippage_bps !== null && o.slippage_bps !== undefined) slips.push(o.slippage_bps);
  }
  acks.sort((a, b) => a - b); fills.sort((a, b) => a - b);
  const figures = { "ack-p50": quantile(acks, 0.5), "ack-p95": quantile(acks, 0.95), "fill-p50": quantile(fills, 0.5), "fill-p95": quantile(fills, 0.95) };
  for (const [id, v] of Object.entries(figures)) document.getElementById(id).textContent = format(v, "ms");
  if (figures["fill-p50"] !== null) {
    state.latency.push([Date.now(), figures["fill-p50"], figures["fill-p95"]]);
    if (state.latency.length > 600) state.latency.shift();
  }
  lineChart("chart-latency", [
    { points: state.latency.map((p) => [p[0], p[1]]), cls: "series" },
    { points: state.latency.map((p) => [p[0], p[2]]), cls: "series-2" },
  ], { fmt: (v) => v.toFixed(0) + " ms", emptyText: "no filled orders yet" });

  const counts = new Array(SLIPPAGE_EDGES.length + 1).fill(0);
  for (const s of slips) {
    let i = SLIPPAGE_EDGES.findIndex((edge) => s <= edge);
    if (i < 0) i = SLIPPAGE_EDGES.length;
    counts[i] += 1;
  }
  const labels = SLIPPAGE_EDGES.map((e) => "≤" + e).concat([">" + SLIPPAGE_EDGES[SLIPPAGE_EDGES.length - 1]]);
  const bars = slips.length ? counts.map((n, i) => ({ label: labels[i], value: n, cls: i <= 4 ? "bar-pos" : "bar-warn", text: n ? String(n) : "" })) : [];
  barChart("chart-slippage", bars, { fmt: (v) => Math.round(v).toString(), emptyText: "no fills yet" });
}

function renderHealth(report) {
  const box = document.getElementById("health");
  if (!report) { box.replaceChildren(el("p", { class: "muted" }, "no health report yet")); return; }
  const table = el("table");
  const head = el("tr");
  for (const h of ["check", "kind", "status", "age"]) head.appendChild(el("th", {}, h));
  table.appendChild(head);
  const overall = el("tr", { "data-check": "overall" });
  overall.append(el("td", {}, "overall"), el("td", {}, ""));
  const cell = el("td"); cell.appendChild(pill(report.status)); overall.append(cell, el("td", {}, ""));
  table.appendChild(overall);
  for (const [name, check] of Object.entries(report.checks || {})) {
    const row = el("tr", { "data-check": name });
    const status = el("td"); status.appendChild(pill(check.status));
    row.append(el("td", {}, name), el("td", {}, check.kind), status, el("td", {}, format(check.age_seconds, "seconds")));
    table.appendChild(row);
  }
  box.replaceChildren(table);
}

function renderRisk(risk) {
  const level = document.getElementById("risk-level");
  level.textContent = risk.level;
  level.className = "pill pill-" + risk.level;
  const summary = document.getElementById("risk-summary");
  summary.replaceChildren(
    document.createTextNode("level "), pill(risk.level),
    document.createTextNode(risk.latched ? " · kill switch engaged (flatten latched until reset)" : " · kill switch off"),
    document.createTextNode(risk.allows_entries ? " · new entries allowed" : " · new entries blocked"),
  );
  const table = el("table");
  const head = el("tr");
  for (const h of ["limit", "level", "observed", "limit value"]) head.appendChild(el("th", {}, h));
  table.appendChild(head);
  for (const [name, st] of Object.entries(risk.limits || {})) {
    const row = el("tr", { "data-limit": name });
    const lvl = el("td"); lvl.appendChild(pill(st.level));
    const fmtKind = name === "max_drawdown" || name === "rejection_rate" ? "percent" : name === "daily_loss" ? "money" : "seconds";
    row.append(el("td", {}, name), lvl, el("td", {}, format(st.value, fmtKind)), el("td", {}, format(st.limit, fmtKind)));
    table.appendChild(row);
  }
  document.getElementById("risk-limits").replaceChildren(table);
  const list = document.getElementById("risk-alerts");
  const items = (risk.alerts || []).slice(0, 20).map((a) => el("li", { "data-level": a.level, "data-limit": a.limit }, `${a.ts.slice(11, 19)} ${a.message}`));
  if (items.length === 0) items.push(el("li", { class: "muted none" }, "no alerts"));
  list.replaceChildren(...items);
  renderHealth(risk.health);
}

function renderSnapshot(snap) {
  state.snapshot = snap;
  state.updates += 1;
  document.body.dataset.updates = String(state.updates);
  document.getElementById("as-of").textContent = "as of " + snap.as_of;
  const value = pick(snap, "trading.portfolio_value");
  if (value !== null) {
    state.live.push([parseTs(snap.as_of), value]);
    if (state.live.length > MAX_LIVE_POINTS) state.live.shift();
  }
  renderFields(snap);
  const series = equitySeries(snap);
  renderEquity(snap, series);
  renderDrawdown(snap, series);
  renderDaily(snap, series);
  renderPositions(snap);
  renderOrders(snap);
  renderSignals(snap);
}

// ------------------------------------------------------------------ data

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function poll() {
  try {
    const [risk, orders] = await Promise.all([getJson("/api/v1/risk"), getJson("/api/v1/orders?limit=500")]);
    state.risk = risk;
    state.orders = orders.orders || [];
    renderRisk(risk);
    renderOrderDetails();
    if (state.snapshot) renderDrawdown(state.snapshot, equitySeries(state.snapshot));
  } catch (err) {
    console.warn("algowatch: poll failed", err);
  }
}

function connect() {
  const pillNode = document.getElementById("connection");
  const source = new EventSource("/api/v1/stream");
  source.addEventListener("open", () => { pillNode.textContent = "live"; pillNode.className = "pill pill-live"; });
  source.addEventListener("error", () => { pillNode.textContent = "offline"; pillNode.className = "pill pill-offline"; });
  source.addEventListener("snapshot", (message) => renderSnapshot(JSON.parse(message.data)));
}

async function main() {
  try {
    renderSnapshot(await getJson("/api/v1/snapshot"));
  } catch (err) {
    console.warn("algowatch: snapshot failed", err);
  }
  await poll();
  connect();
  setInterval(poll, POLL_MS);
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (state.snapshot) renderSnapshot(state.snapshot); renderOrderDetails(); }, 150);
  });
}

main();
