// algowatch dashboard: plain JavaScript, charts by charts.js, no libraries, no network
// access beyond this service. Live data: GET /api/v1/snapshot once, then the SSE stream
// /api/v1/stream ("snapshot" events); the equity curve (/api/v1/equity, LTTB-down-sampled
// in event time), the scope's orders, fills and trades (paged) and the risk guard are
// polled every two seconds. Every time shown is event time, labelled "simulated" when
// the service runs on a simulated clock (GET /api/v1/clock; the demo).
"use strict";

const POLL_MS = 2000;
const PAGE_SIZE = 20;
const MAX_LIVE_POINTS = 5000;
const LATENCY_WINDOW = 20;
const SLIPPAGE_EDGES = [-10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50];

const state = {
  snapshot: null,
  clock: null,
  risk: null,
  orders: [],          // the scope's last 500 orders (latency, slippage)
  equity: [],          // [ms, equity]: the portfolio curve in the selected range
  equityAll: [],       // [ms, equity]: the whole curve (drawdown peak, daily bars)
  live: {},            // scope key -> [ms, portfolio value] from each snapshot since page load
  scope: "portfolio",  // "portfolio", "strategy:NAME" or "account:NAME"
  range: null,         // milliseconds of event time before the latest, or null for all
  tables: { orders: { offset: 0, total: 0, rows: [] }, fills: { offset: 0, total: 0, rows: [] }, trades: { offset: 0, total: 0, rows: [] } },
  updates: 0,
  polls: 0,
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
    case "number": return Number(v.toPrecision(8)).toLocaleString("en-US", { maximumFractionDigits: 6 });
    default: return String(v);
  }
}

const moneyAxis = (v) => money(Math.round(v), false).replace(".00", "");

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

function readable(text) {
  return text ? text.replace("T", " ").slice(0, 19) + " UTC" : "—";
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

// ------------------------------------------------------------------ scope and range

function scopeParts() {
  const i = state.scope.indexOf(":");
  return i < 0 ? ["portfolio", null] : [state.scope.slice(0, i), state.scope.slice(i + 1)];
}

function scopeRoot(snap) {
  const [kind, name] = scopeParts();
  if (!snap || kind === "portfolio") return snap;
  const scopes = snap[kind === "strategy" ? "by_strategy" : "by_account"] || {};
  return scopes[name] || null;
}

function scopePath() {
  const [kind, name] = scopeParts();
  return kind === "portfolio" ? "" : `${kind === "strategy" ? "by_strategy" : "by_account"}.${name}.`;
}

function scopeQuery() {
  const [kind, name] = scopeParts();
  return kind === "portfolio" ? "" : `&${kind}=${encodeURIComponent(name)}`;
}

function latestMs() {
  return state.snapshot && state.snapshot.as_of ? parseTs(state.snapshot.as_of) : Date.now();
}

function since() {
  return state.range === null ? null : latestMs() - state.range;
}

function inRange(points) {
  const start = since();
  return start === null ? points : points.filter((p) => p[0] >= start);
}

function updateScopeOptions(snap) {
  const select = document.getElementById("scope");
  const wanted = ["portfolio"].concat(Object.keys(snap.by_strategy || {}).map((n) => "strategy:" + n), Object.keys(snap.by_account || {}).map((n) => "account:" + n));
  const have = Array.from(select.options).map((o) => o.value);
  if (wanted.join("\n") === have.join("\n")) return;
  select.replaceChildren(...wanted.map((v) => el("option", { value: v }, v === "portfolio" ? "portfolio (all)" : v.replace(":", ": "))));
  select.value = wanted.includes(state.scope) ? state.scope : "portfolio";
}

// ------------------------------------------------------------------ views

function renderHeader(snap) {
  const clock = state.clock;
  const simulated = clock && clock.simulated;
  const asOf = document.getElementById("as-of");
  asOf.textContent = (simulated ? "simulated time " : "event time ") + readable(snap.as_of);
  asOf.dataset.asOf = snap.as_of || "";
  const kind = document.getElementById("clock-kind");
  if (simulated) {
    kind.textContent = `simulated ×${clock.speed}`;
    kind.className = "pill pill-warn";
    kind.title = `the demo's clock runs ${clock.speed} times faster than the wall clock; every time shown is simulated event time`;
  } else {
    kind.textContent = "event time";
    kind.className = "pill pill-unknown";
  }
  document.body.dataset.simulated = simulated ? "true" : "false";
}

function renderFields(snap) {
  const root = scopeRoot(snap);
  const path = scopePath();
  const sessions = pick(root, "trading.sessions");
  for (const node of document.querySelectorAll("[data-field]")) {
    const v = pick(root, node.dataset.field);
    let text = format(v, node.dataset.format, node.hasAttribute("data-sign"));
    node.title = "";
    if (v === null && node.dataset.sessions && (sessions === null || sessions < Number(node.dataset.sessions))) {
      text = `needs ≥ ${node.dataset.sessions} sessions`;
      node.title = `undefined until ${node.dataset.sessions} sessions have closed (${sessions ?? 0} so far)`;
    } else if (v === null) {
      node.title = "undefined (too little data or zero variance)";
    }
    node.textContent = text;
    node.dataset.value = v === null ? "null" : String(v);
    node.dataset.path = path + node.dataset.field;
    node.classList.toggle("pos", node.hasAttribute("data-sign") && v > 0);
    node.classList.toggle("neg", node.hasAttribute("data-sign") && v < 0);
    node.classList.toggle("undefined", v === null);
  }
}

function equitySeries() {
  if (state.scope === "portfolio") {
    const last = state.equity.length ? state.equity[state.equity.length - 1][0] : -Infinity;
    return state.equity.concat(inRange((state.live.portfolio || []).filter((p) => p[0] > last)));
  }
  return inRange(state.live[state.scope] || []);
}

function renderEquity(root, series) {
  const t = (root && root.trading) || {};
  const note = document.getElementById("equity-note");
  note.textContent = state.scope === "portfolio"
    ? `event time; ${state.equity.length} of ${state.equityTotal ?? 0} points (LTTB)`
    : "this scope's value at each update since the page loaded (the engine keeps one curve, the portfolio's)";
  Charts.line("chart-equity", [{ points: series, cls: "series", name: state.scope === "portfolio" ? "equity" : "scope value" }], {
    fmt: (v, tip) => (tip ? money(v) : moneyAxis(v)),
    hlines: [{ y: t.high_water_mark, label: "high-water mark " + (t.high_water_mark ? moneyAxis(t.high_water_mark) : "") }],
    view: Charts.zoom(),
  });
}

function renderDrawdown(root, series) {
  const t = (root && root.trading) || {};
  let peak = t.starting_capital ?? (series.length ? series[0][1] : 0);
  if (state.scope === "portfolio" && series.length) {
    // the running peak before the range starts still counts
    for (const [x, v] of state.equityAll) if (x < series[0][0]) peak = Math.max(peak, v);
  }
  const points = series.map(([x, v]) => { peak = Math.max(peak, v); return [x, peak > 0 ? Math.max(0, 1 - v / peak) : 0]; });
  const limit = pick(state.risk, "configured_limits.max_drawdown");
  const top = Math.max(0.01, ...points.map((p) => p[1]), limit || 0) * 1.1;
  Charts.line("chart-drawdown", [{ points, cls: "area-bad", area: true, name: "drawdown from peak" }], {
    fmt: (v, tip) => (v * 100).toFixed(tip ? 2 : 1) + "%", yRange: [0, top],
    hlines: limit ? [{ y: limit, label: "guard limit " + (limit * 100).toFixed(0) + "%" }] : [],
    view: Charts.zoom(),
  });
}

function renderDaily(root) {
  const series = state.scope === "portfolio" ? state.equityAll : [];
  const byDay = new Map();
  for (const [x, v] of series) byDay.set(new Date(x).toISOString().slice(0, 10), v);
  let previous = pick(root, "trading.starting_capital");
  const bars = [];
  for (const [day, v] of byDay) {
    if (previous !== null) bars.push({ label: day.slice(5), day, value: v - previous });
    previous = v;
  }
  const today = pick(root, "trading.daily_pnl");
  if (today !== null) {
    if (bars.length) bars[bars.length - 1].value = today;
    else bars.push({ label: "today", day: "current session", value: today });
  }
  for (const b of bars) { b.cls = b.value >= 0 ? "bar-pos" : "bar-neg"; b.text = money(b.value, true); b.tip = `${b.day}: ${money(b.value, true)}`; }
  Charts.bar("chart-daily", bars.slice(-14), { fmt: moneyAxis });
}

function renderPositions(snap) {
  const [kind, name] = scopeParts();
  document.getElementById("positions-note").textContent = kind === "strategy" ? "(every strategy: positions are kept per account)" : "";
  const rows = (snap.positions || []).filter((p) => kind !== "account" || p.account === name);
  const bars = rows.map((p) => ({
    label: p.symbol,
    value: p.market_value ?? 0,
    cls: (p.market_value ?? 0) >= 0 ? "bar-pos" : "bar-neg",
    text: money(p.market_value ?? 0, true),
    tip: `${p.account} · ${p.side} ${format(p.quantity, "number")} @ ${format(p.average_cost, "number")}, mark ${format(p.mark, "number")}; unrealized ${money(p.unrealized_pnl ?? 0, true)}`,
  }));
  Charts.hbar("chart-positions", bars, { emptyText: "flat: no open positions" });
}

function renderOrderCounts(root) {
  const e = (root && root.execution) || {};
  const rows = [
    ["filled", e.orders_filled, "bar-pos"], ["partial", e.orders_partially_filled, "bar-warn"],
    ["canceled", e.orders_canceled, "bar-muted"], ["rejected", e.orders_rejected, "bar-neg"],
    ["open", e.orders_open, "bar"],
  ];
  const submitted = e.orders_submitted || 0;
  const bars = rows.filter((r) => r[1] !== null && r[1] !== undefined).map(([label, value, cls]) => ({
    label, value, cls, text: String(value),
    tip: `${value} of ${submitted} submitted` + (submitted ? ` (${(100 * value / submitted).toFixed(2)}%)` : ""),
  }));
  Charts.bar("chart-orders", bars, { fmt: (v) => Math.round(v).toString() });
}

function renderSignals(snap) {
  const [kind, name] = scopeParts();
  const bars = [];
  for (const [strategy, views] of Object.entries(snap.by_strategy || {})) {
    if (kind === "strategy" && strategy !== name) continue;
    const acc = pick(views, "signals.signal_accuracy");
    if (acc === null) continue;
    const outcomes = pick(views, "signals.outcomes_total");
    bars.push({ label: strategy, value: acc, cls: acc >= 0.5 ? "bar-pos" : "bar-neg", text: (acc * 100).toFixed(0) + "% of " + outcomes, tip: `accuracy ${(acc * 100).toFixed(2)}% over ${outcomes} outcomes` });
  }
  Charts.bar("chart-signals", bars, { fmt: (v) => (v * 100).toFixed(0) + "%", emptyText: "no signal outcomes yet" });
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function renderOrderDetails() {
  const acks = [], fills = [], slips = [];
  const start = since();
  for (const o of state.orders) {
    const sub = parseTs(o.submitted_time);
    if (start !== null && parseTs(o.updated_time) < start) continue;
    if (o.acknowledged_time) acks.push(parseTs(o.acknowledged_time) - sub);
    if (o.status === "filled") fills.push([parseTs(o.updated_time), parseTs(o.updated_time) - sub]);
    if (o.slippage_bps !== null && o.slippage_bps !== undefined) slips.push(o.slippage_bps);
  }
  fills.sort((a, b) => a[0] - b[0]);
  const sortedAcks = acks.slice().sort((a, b) => a - b);
  const sortedFills = fills.map((f) => f[1]).sort((a, b) => a - b);
  const figures = { "ack-p50": quantile(sortedAcks, 0.5), "ack-p95": quantile(sortedAcks, 0.95), "fill-p50": quantile(sortedFills, 0.5), "fill-p95": quantile(sortedFills, 0.95) };
  for (const [id, v] of Object.entries(figures)) document.getElementById(id).textContent = format(v, "ms");
  // rolling percentiles over the last LATENCY_WINDOW filled orders, at each fill's event time
  const p50 = [], p95 = [];
  fills.forEach((f, i) => {
    const window = fills.slice(Math.max(0, i - LATENCY_WINDOW + 1), i + 1).map((w) => w[1]).sort((a, b) => a - b);
    p50.push([f[0], quantile(window, 0.5)]);
    p95.push([f[0], quantile(window, 0.95)]);
  });
  Charts.line("chart-latency", [
    { points: p50, cls: "series", name: `fill p50 (last ${LATENCY_WINDOW} orders)` },
    { points: p95, cls: "series-2", name: "fill p95" },
  ], { fmt: (v, tip) => v.toFixed(tip ? 1 : 0) + " ms", emptyText: "no filled orders in range", view: Charts.zoom() });

  const counts = new Array(SLIPPAGE_EDGES.length + 1).fill(0);
  for (const s of slips) {
    let i = SLIPPAGE_EDGES.findIndex((edge) => s <= edge);
    if (i < 0) i = SLIPPAGE_EDGES.length;
    counts[i] += 1;
  }
  const labels = SLIPPAGE_EDGES.map((e) => "≤" + e).concat([">" + SLIPPAGE_EDGES[SLIPPAGE_EDGES.length - 1]]);
  const bars = slips.length ? counts.map((n, i) => ({ label: labels[i], value: n, cls: i <= 4 ? "bar-pos" : "bar-warn", text: n ? String(n) : "", tip: `${n} orders with slippage ${labels[i]} bps` })) : [];
  Charts.bar("chart-slippage", bars, { fmt: (v) => Math.round(v).toString(), emptyText: "no fills in range" });
}

const TABLES = {
  orders: [["submitted", (r) => readable(r.submitted_time)], ["order", (r) => r.order_id], ["strategy", (r) => r.strategy], ["account", (r) => r.account], ["symbol", (r) => r.symbol], ["side", (r) => r.side], ["qty", (r) => format(r.quantity, "number")], ["filled", (r) => format(r.filled_quantity, "number")], ["avg price", (r) => format(r.average_price, "number")], ["status", (r) => r.status], ["slippage", (r) => format(r.slippage_bps, "bps")]],
  fills: [["time", (r) => readable(r.time)], ["fill", (r) => r.fill_id], ["order", (r) => r.order_id], ["strategy", (r) => r.strategy], ["account", (r) => r.account], ["symbol", (r) => r.symbol], ["side", (r) => r.side], ["qty", (r) => format(r.quantity, "number")], ["price", (r) => format(r.price, "number")], ["fee", (r) => format(r.fee, "money")], ["liquidity", (r) => r.liquidity ?? "—"]],
  trades: [["exit", (r) => readable(r.exit_time)], ["strategy", (r) => r.strategy], ["account", (r) => r.account], ["symbol", (r) => r.symbol], ["side", (r) => r.side], ["qty", (r) => format(r.quantity, "number")], ["entry", (r) => format(r.entry_price, "number")], ["exit price", (r) => format(r.exit_price, "number")], ["P&L", (r) => format(r.pnl, "money", true)], ["duration", (r) => format(r.duration_seconds, "seconds")]],
};

function renderTable(name) {
  const card = document.querySelector(`[data-table="${name}"]`);
  const t = state.tables[name];
  const table = el("table");
  const head = el("tr");
  for (const [title] of TABLES[name]) head.appendChild(el("th", {}, title));
  table.appendChild(head);
  for (const row of t.rows) {
    const tr = el("tr", { "data-row": "" });
    for (const [, cell] of TABLES[name]) tr.appendChild(el("td", {}, cell(row)));
    table.appendChild(tr);
  }
  if (t.rows.length === 0) table.appendChild(el("tr", {}, "")).appendChild(el("td", { colspan: TABLES[name].length, class: "muted" }, `no ${name} in this scope`));
  card.querySelector(".table-wrap").replaceChildren(table);
  card.dataset.total = String(t.total);
  card.dataset.offset = String(t.offset);
  const prev = el("button", { type: "button", "data-page": "prev" }, "‹ newer");
  const next = el("button", { type: "button", "data-page": "next" }, "older ›");
  prev.disabled = t.offset === 0;
  next.disabled = t.offset + PAGE_SIZE >= t.total;
  prev.addEventListener("click", () => { t.offset = Math.max(0, t.offset - PAGE_SIZE); loadTable(name); });
  next.addEventListener("click", () => { t.offset += PAGE_SIZE; loadTable(name); });
  const shown = t.rows.length ? `${t.offset + 1}–${t.offset + t.rows.length} of ${t.total}` : `0 of ${t.total}`;
  card.querySelector(".pager").replaceChildren(prev, el("span", { class: "muted" }, shown), next);
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

function limitLabel(name, configured) {
  // the guard's rejection rate is over a sliding window, not over every order like the key figure
  if (name === "rejection_rate" && configured) {
    return `rejection rate, last ${configured.rejection_window_seconds ?? "?"} s (from ${configured.min_orders_for_rejection_rate} orders)`;
  }
  return name.replaceAll("_", " ");
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
    let value = st.value;
    let source = "risk";
    // drawdown and daily loss are the key figures' numbers: shown from the same snapshot,
    // so one figure never shows two values; the guard's level is its own
    const trading = pick(state.snapshot, "trading");
    if (name === "max_drawdown" && trading) { value = trading.current_drawdown; source = "snapshot"; }
    if (name === "daily_loss" && trading && trading.daily_pnl !== null) { value = Math.max(0, -trading.daily_pnl); source = "snapshot"; }
    const observed = value === null || value === undefined ? (name === "rejection_rate" ? "too few orders in window" : "—") : format(value, fmtKind);
    const cell = el("td", { "data-source": source, "data-value": value === null || value === undefined ? "null" : String(value) }, observed);
    if (source === "snapshot") cell.title = `the guard judged ${format(st.value, fmtKind)} at its last check`;
    row.append(el("td", {}, limitLabel(name, risk.configured_limits)), lvl, cell, el("td", {}, format(st.limit, fmtKind)));
    table.appendChild(row);
  }
  document.getElementById("risk-limits").replaceChildren(table);
  const list = document.getElementById("risk-alerts");
  const items = (risk.alerts || []).slice(0, 20).map((a) => el("li", { "data-level": a.level, "data-limit": a.limit }, `${readable(a.ts).slice(11)} ${a.message}`));
  if (items.length === 0) items.push(el("li", { class: "muted none" }, "no alerts"));
  list.replaceChildren(...items);
  renderHealth(risk.health);
}

function renderCharts() {
  const snap = state.snapshot;
  if (!snap) return;
  const root = scopeRoot(snap);
  const series = equitySeries();
  renderEquity(root, series);
  renderDrawdown(root, series);
  renderDaily(root);
  renderPositions(snap);
  renderOrderCounts(root);
  renderSignals(snap);
  renderOrderDetails();
  document.getElementById("zoom-reset").hidden = Charts.zoom() === null;
}

function renderSnapshot(snap) {
  state.snapshot = snap;
  state.updates += 1;
  document.body.dataset.updates = String(state.updates);
  updateScopeOptions(snap);
  renderHeader(snap);
  if (snap.as_of) {
    const x = parseTs(snap.as_of);
    const record = (key, value) => {
      if (value === null || value === undefined) return;
      const list = state.live[key] || (state.live[key] = []);
      if (list.length && list[list.length - 1][0] >= x) return;
      list.push([x, value]);
      if (list.length > MAX_LIVE_POINTS) list.shift();
    };
    record("portfolio", pick(snap, "trading.portfolio_value"));
    for (const [name, views] of Object.entries(snap.by_strategy || {})) record("strategy:" + name, pick(views, "trading.portfolio_value"));
    for (const [name, views] of Object.entries(snap.by_account || {})) record("account:" + name, pick(views, "trading.portfolio_value"));
  }
  renderFields(snap);
  renderCharts();
  if (state.risk) renderRisk(state.risk);
}

// ------------------------------------------------------------------ data

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function loadTable(name) {
  const t = state.tables[name];
  const page = await getJson(`/api/v1/${name}?offset=${t.offset}&limit=${PAGE_SIZE}${scopeQuery()}`);
  t.rows = page[name] || [];
  t.total = page.total ?? t.rows.length;
  renderTable(name);
}

async function loadEquity() {
  const points = Math.min(2000, Math.max(200, Math.round(document.getElementById("chart-equity").clientWidth * 1.5)));
  const start = since();
  const all = await getJson(`/api/v1/equity?points=${points}`);
  state.equityAll = all.points.map(([ts, v]) => [parseTs(ts), v]);
  state.equityQuery = `/api/v1/equity?points=${points}`;
  state.equityTotal = all.total;
  state.equity = state.equityAll;
  if (start !== null) {
    state.equityQuery += `&since=${encodeURIComponent(new Date(start).toISOString())}`;
    const ranged = await getJson(state.equityQuery);
    state.equity = ranged.points.map(([ts, v]) => [parseTs(ts), v]);
    state.equityTotal = ranged.total;
  }
}

async function poll() {
  try {
    const [risk, orders, clock] = await Promise.all([getJson("/api/v1/risk"), getJson("/api/v1/orders?limit=500" + scopeQuery()), getJson("/api/v1/clock")]);
    state.risk = risk;
    state.orders = orders.orders || [];
    state.clock = clock;
    await Promise.all([loadEquity(), ...Object.keys(state.tables).map(loadTable)]);
    renderRisk(risk);
    if (state.snapshot) { renderHeader(state.snapshot); renderCharts(); }
    state.polls += 1;
    document.body.dataset.polls = String(state.polls);
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

function wireControls() {
  document.getElementById("scope").addEventListener("change", (event) => {
    state.scope = event.target.value;
    for (const t of Object.values(state.tables)) t.offset = 0;
    if (state.snapshot) renderSnapshot(state.snapshot);
    poll();
  });
  for (const button of document.querySelectorAll("[data-range]")) {
    button.addEventListener("click", () => {
      state.range = button.dataset.range === "all" ? null : Number(button.dataset.range);
      for (const b of document.querySelectorAll("[data-range]")) b.classList.toggle("active", b === button);
      Charts.setZoom(null);
      poll();
    });
  }
  document.getElementById("zoom-reset").addEventListener("click", () => Charts.setZoom(null));
  Charts.onZoom(() => renderCharts());
}

async function main() {
  wireControls();
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
    resizeTimer = setTimeout(renderCharts, 150);
  });
}

main();
