// studio ui: the experiment page's charts. Hand-written SVG, no libraries. One chart per tag (TensorBoard
// scalars from the `tb` artifact, the worker's `_metrics` samples), each line one experiment: the page's own
// and those it is compared with. The server thins each series (max_points, min/max kept); a poll fetches
// again only the series whose count or last value changed. Tags and keys reach the page as textContent.
"use strict";

const CHART_POLL_MS = 3000;
const CHART_POINTS = 600;
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];
const SVG = "http://www.w3.org/2000/svg";
const charts = { keys: [], timer: null, busy: false, nodes: new Map(), seen: new Map(), data: new Map() };

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
  return node;
}

function startCharts(key, others) {
  stopCharts();
  charts.keys = [key].concat(others.filter((k) => k && k !== key));
  charts.nodes = new Map(); charts.seen = new Map(); charts.data = new Map();
  $("charts").replaceChildren();
  $("charts-state").textContent = "";
  $("compare").value = others.join(", ");
  const legend = $("charts-legend");
  legend.replaceChildren();
  charts.keys.forEach((k, i) => {
    const item = el("span", "legend-item", k);
    item.style.borderColor = COLORS[i % COLORS.length];
    legend.appendChild(item);
  });
  pollCharts();
  charts.timer = setInterval(pollCharts, CHART_POLL_MS);
}

function stopCharts() {
  if (charts.timer) clearInterval(charts.timer);
  charts.timer = null;
  charts.keys = [];
}

async function pollCharts() {
  if (charts.busy || !charts.keys.length) return;
  charts.busy = true;
  const keys = charts.keys;
  try {
    const problems = [];
    const changed = new Set();
    for (const key of keys) {
      let answer;
      try { answer = await api(keyPath(key) + "/scalars"); } catch (e) { problems.push(`${key}: ${e.message}`); continue; }
      for (const line of answer.malformed || []) problems.push(`${key}: malformed ${line}`);
      for (const summary of answer.tags || []) {
        const id = key + "\u0000" + summary.tag;
        const signature = `${summary.count}:${summary.last}`;
        if (charts.seen.get(id) === signature) continue;
        const series = await api(keyPath(key) + "/scalars?tag=" + encodeURIComponent(summary.tag) + "&max_points=" + CHART_POINTS);
        if (keys !== charts.keys) return;
        charts.seen.set(id, signature);
        if (!charts.data.has(summary.tag)) charts.data.set(summary.tag, new Map());
        charts.data.get(summary.tag).set(key, series.points || []);
        changed.add(summary.tag);
      }
    }
    if (keys !== charts.keys) return;
    $("charts-state").textContent = problems.join("; ");
    $("charts-state").className = problems.length ? "malformed" : "muted";
    const tags = Array.from(charts.data.keys()).sort((a, b) => (a.startsWith("_metrics/") - b.startsWith("_metrics/")) || (a < b ? -1 : a > b ? 1 : 0));
    if (!tags.length && !problems.length) $("charts-state").textContent = "no scalars yet";
    for (const tag of tags) if (changed.has(tag)) drawChart(tag, tags);
  } catch (e) {
    $("charts-state").textContent = e.message;
  } finally {
    charts.busy = false;
  }
}

// The chart of `tag`, created in tag order the first time.
function chartNode(tag, tags) {
  let node = charts.nodes.get(tag);
  if (node) return node;
  node = el("figure", "chart");
  node.dataset.tag = tag;
  node.appendChild(el("figcaption", null, tag));
  node.appendChild(svg("svg", { viewBox: "0 0 420 180", role: "img" }));
  node.appendChild(el("div", "readout muted", "\u00a0"));
  charts.nodes.set(tag, node);
  const after = tags.slice(tags.indexOf(tag) + 1).map((t) => charts.nodes.get(t)).find(Boolean);
  $("charts").insertBefore(node, after || null);
  return node;
}

function drawChart(tag, tags) {
  const node = chartNode(tag, tags);
  const byTime = tag.startsWith("_metrics/"); // samples: x is the wall time; scalars: the step
  const lines = charts.keys.map((key, i) => ({ key, color: COLORS[i % COLORS.length], points: (charts.data.get(tag).get(key) || []).filter((p) => p[2] !== null) }));
  const all = lines.flatMap((l) => l.points);
  const xOf = (p) => (byTime ? p[1] : p[0]);
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const p of all) { x0 = Math.min(x0, xOf(p)); x1 = Math.max(x1, xOf(p)); y0 = Math.min(y0, p[2]); y1 = Math.max(y1, p[2]); }
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= 1; y1 += 1; }
  const [left, right, top, bottom] = [56, 412, 8, 160];
  const sx = (x) => left + ((x - x0) / (x1 - x0)) * (right - left);
  const sy = (y) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);
  const plot = node.querySelector("svg");
  plot.replaceChildren(svg("rect", { x: left, y: top, width: right - left, height: bottom - top, class: "frame" }));
  const label = (x, y, text, anchor) => { const t = svg("text", { x, y, "text-anchor": anchor }); t.textContent = text; plot.appendChild(t); };
  if (all.length) {
    label(left - 4, top + 8, fmtNumber(y1), "end");
    label(left - 4, bottom, fmtNumber(y0), "end");
    label(left, bottom + 14, byTime ? fmtTime(x0).slice(11) : fmtNumber(x0), "start");
    label(right, bottom + 14, byTime ? fmtTime(x1).slice(11) : fmtNumber(x1), "end");
  }
  for (const line of lines) {
    if (!line.points.length) continue;
    const d = line.points.map((p) => `${sx(xOf(p)).toFixed(1)},${sy(p[2]).toFixed(1)}`).join(" ");
    plot.appendChild(svg(line.points.length > 1 ? "polyline" : "circle", line.points.length > 1
      ? { points: d, fill: "none", stroke: line.color, "stroke-width": 1.5 }
      : { cx: sx(xOf(line.points[0])), cy: sy(line.points[0][2]), r: 3, fill: line.color }));
  }
  plot.onmousemove = (e) => {
    const box = plot.getBoundingClientRect();
    const x = x0 + ((e.clientX - box.left) / box.width * 420 - left) / (right - left) * (x1 - x0);
    const parts = [];
    for (const line of lines) {
      let best = null;
      for (const p of line.points) if (!best || Math.abs(xOf(p) - x) < Math.abs(xOf(best) - x)) best = p;
      if (best) parts.push(`${line.key}: ${fmtNumber(best[2])} @ ${byTime ? fmtTime(best[1]) : "step " + best[0]}`);
    }
    node.querySelector(".readout").textContent = parts.join("   ") || "\u00a0";
  };
}

function setupCharts() {
  $("compare-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const others = $("compare").value.split(/[\s,]+/).filter(Boolean);
    location.hash = experimentHash(detail.key, others);
  });
}

// `#/e/<key>` or `#/e/<key>?vs=<other>,<other>` (each key percent-encoded, so "?" and "," are separators).
function experimentHash(key, others) {
  return "#/e/" + encodeURIComponent(key) + (others.length ? "?vs=" + others.map(encodeURIComponent).join(",") : "");
}
