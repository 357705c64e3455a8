// studio ui: the experiments list and one experiment's page. Vanilla JS, no dependencies.
// Every value from an experiment reaches the page through textContent or an attribute, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
const LOG_POLL_MS = 1000;

// ---- helpers ----

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function fmtTime(t) {
  if (t === null || t === undefined) return "";
  const d = new Date(t * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fmtDuration(s) {
  if (s === null || s === undefined) return "";
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, "0")}m${String(sec).padStart(2, "0")}s` : m ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

function fmtSize(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + units[i];
}

function fmtNumber(v) {
  if (v === null || v === undefined) return "";
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? v.toExponential(3) : String(Math.round(v * 1e4) / 1e4);
}

function badge(status) {
  const known = ["waiting", "running", "finished", "failed", "stopped", "malformed"];
  return el("span", "badge" + (known.includes(status) ? " " + status : ""), status);
}

function banner(text) {
  const b = $("banner");
  b.textContent = text || "";
  b.hidden = !text;
}

async function api(path, options) {
  const response = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, options || {}));
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const message = (body && body.error) || `HTTP ${response.status}`;
    if (response.status === 401) banner("A token is needed: open this page as /?token=…");
    throw new Error(message);
  }
  return body;
}

function post(path) {
  // The custom header proves the request comes from this page: a cross-site form cannot send it.
  return api(path, { method: "POST", headers: { "X-Studio-UI": "1" } });
}

const keyPath = (key) => "/api/experiments/" + encodeURIComponent(key);

// Server time minus client time, so run times of running experiments tick correctly.
let clockSkew = 0;
const serverNow = () => Date.now() / 1000 + clockSkew;

// ---- the list ----

const list = {
  offset: 0, limit: 50, sort: "time_added", order: "desc",
  q: "", status: "", project: "", owner: "",
  generation: -1, total: 0,
  metricsGeneration: -1, // the metric column's generation: live metric cells change without their record
  selected: new Set(),
  rows: new Map(),      // key → {tr, json, row}
  request: 0,           // sequence number: answers to superseded requests are dropped
  timer: null,
};

function listQuery(withSince) {
  const p = new URLSearchParams();
  p.set("offset", list.offset); p.set("limit", list.limit);
  p.set("sort", list.sort); p.set("order", list.order);
  for (const name of ["q", "status", "project", "owner"]) if (list[name]) p.set(name, list[name]);
  if (withSince && list.generation >= 0) {
    p.set("since", list.generation);
    // Running rows whose metric cell shows: the answer carries their values that changed (keys hold no "/").
    const live = [];
    for (const [key, entry] of list.rows) {
      if (entry.row.metric_value && (entry.row.status === "running" || entry.row.status === "waiting")) live.push(key);
    }
    if (live.length && list.metricsGeneration >= 0) {
      p.set("metrics_since", list.metricsGeneration);
      p.set("metrics", live.join("/"));
    }
  }
  return "/api/experiments?" + p.toString();
}

async function refreshList(full) {
  const sequence = ++list.request;
  let data;
  try {
    const path = listQuery(!full);
    // A whole page may be the one index.html preloads, which a "no-store" request would not reuse (the
    // server's own Cache-Control: no-store still keeps every answer out of the cache).
    data = await api(path, path.includes("since=") ? {} : { cache: "default" });
  } catch (e) {
    if (sequence === list.request) banner("Cannot refresh: " + e.message);
    return;
  }
  if (sequence !== list.request) return;
  banner(data.error ? data.error : "");
  list.generation = data.generation;
  if (!data.unchanged) {
    clockSkew = data.now - Date.now() / 1000;
    renderList(data);
  }
  if (data.metrics_generation !== undefined) list.metricsGeneration = data.metrics_generation;
  for (const [key, value] of Object.entries(data.metrics || {})) {
    const entry = list.rows.get(key);
    if (!entry) continue;
    entry.row = Object.assign({}, entry.row, { metric_value: value });
    entry.json = JSON.stringify(entry.row);
    entry.tr.lastChild.replaceWith(metricCell(entry.row));
  }
}

function fillSelect(select, values, current) {
  const have = Array.from(select.options).slice(1).map((o) => o.value);
  if (have.length === values.length && have.every((v, i) => v === values[i])) return;
  while (select.options.length > 1) select.remove(1);
  for (const value of values) {
    const option = el("option", null, value);
    option.value = value;
    select.appendChild(option);
  }
  select.value = current;
}

function renderList(data) {
  if (data.rows.length === 0 && list.offset > 0 && data.total > 0) {
    // The page emptied (deletes, a narrower filter): show the last page that has rows.
    list.offset = Math.max(0, Math.floor((data.total - 1) / list.limit) * list.limit);
    return restart(true);
  }
  list.total = data.total;
  const counts = Object.entries(data.statuses || {}).map(([s, n]) => `${n} ${s}`).join(" · ");
  $("counts").textContent = counts;
  fillSelect($("f-project"), data.projects || [], list.project);
  fillSelect($("f-owner"), data.owners || [], list.owner);

  const tbody = $("rows");
  const seen = new Set();
  data.rows.forEach((row, index) => {
    seen.add(row.key);
    const json = JSON.stringify(row);
    let entry = list.rows.get(row.key);
    if (!entry) {
      entry = { tr: el("tr"), json: "", row };
      entry.tr.dataset.key = row.key;
      list.rows.set(row.key, entry);
    }
    if (entry.json !== json) { fillRow(entry.tr, row); entry.json = json; entry.row = row; }
    entry.tr.classList.toggle("selected", list.selected.has(row.key));
    entry.tr.querySelector("input").checked = list.selected.has(row.key);
    // Move a row only when it is out of place, so unchanged rows keep their DOM nodes.
    if (tbody.children[index] !== entry.tr) tbody.insertBefore(entry.tr, tbody.children[index] || null);
  });
  for (const [key, entry] of list.rows) {
    if (!seen.has(key)) { entry.tr.remove(); list.rows.delete(key); }
  }
  const first = data.total ? list.offset + 1 : 0;
  $("page-info").textContent = `${first}–${list.offset + data.rows.length} of ${data.total}`;
  $("prev").disabled = list.offset === 0;
  $("next").disabled = list.offset + list.limit >= data.total;
  updateBulkButtons();
}

function fillRow(tr, row) {
  tr.replaceChildren();
  tr.className = row.status === "malformed" ? "malformed" : "";
  const check = el("td", "check");
  const box = el("input");
  box.type = "checkbox";
  box.setAttribute("aria-label", "Select " + row.key);
  check.appendChild(box);
  tr.appendChild(check);

  const keyCell = el("td", "key");
  const link = el("a", null, row.key);
  link.href = "#/e/" + encodeURIComponent(row.key);
  keyCell.appendChild(link);
  tr.appendChild(keyCell);

  const script = row.malformed ? row.malformed : [row.filename].concat(row.args || []).join(" ");
  const scriptCell = el("td", "script", script);
  scriptCell.title = script;
  tr.appendChild(scriptCell);
  tr.appendChild(el("td", null, row.project || ""));
  tr.appendChild(el("td", null, row.owner || ""));
  const statusCell = el("td");
  statusCell.appendChild(badge(row.status));
  tr.appendChild(statusCell);
  tr.appendChild(el("td", null, fmtTime(row.time_added)));
  tr.appendChild(el("td", null, fmtTime(row.time_started)));
  tr.appendChild(el("td", null, fmtTime(row.time_finished)));
  const runTime = el("td", "run-time", fmtDuration(row.run_time));
  if (row.status === "running" && row.time_started) runTime.dataset.started = row.time_started;
  tr.appendChild(runTime);
  tr.appendChild(el("td", null, row.exit_code === null || row.exit_code === undefined ? "" : row.exit_code));
  tr.appendChild(metricCell(row));
}

// `--metric loss:min` shows "loss min 0.25"; the cell's title holds the tag's min, max and last.
function metricCell(row) {
  const m = row.metric_value;
  if (!m) return el("td", null, row.metric || "");
  const shown = m.value === null || m.value === undefined ? "–" : fmtNumber(m.value);
  const cell = el("td", "metric" + (m.malformed ? " malformed" : ""), `${m.tag} ${m.mode === "last" ? "" : m.mode + " "}${shown}`);
  cell.title = m.malformed ? "malformed: " + m.malformed : `min ${fmtNumber(m.min)}, max ${fmtNumber(m.max)}, last ${fmtNumber(m.last)} (${m.count || 0} points)`;
  return cell;
}

function updateBulkButtons() {
  const none = list.selected.size === 0;
  $("bulk-stop").disabled = none;
  $("bulk-delete").disabled = none;
  $("bulk-compare").disabled = none;
  const boxes = $("rows").querySelectorAll("input[type=checkbox]");
  $("select-all").checked = boxes.length > 0 && Array.from(boxes).every((b) => b.checked);
}

function updateSortHeaders() {
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.classList.toggle("sorted-asc", th.dataset.sort === list.sort && list.order === "asc");
    th.classList.toggle("sorted-desc", th.dataset.sort === list.sort && list.order === "desc");
  }
}

function restart(full) {
  // A new query: forget the generation so the answer is a whole page.
  list.generation = -1;
  refreshList(full);
}

async function bulk(action) {
  const keys = Array.from(list.selected);
  if (!keys.length) return;
  const verb = action === "stop" ? "Stop" : "Delete";
  if (!window.confirm(`${verb} ${keys.length} experiment(s)?`)) return;
  const failures = [];
  for (const key of keys) {
    try { await post(keyPath(key) + "/" + action); list.selected.delete(key); }
    catch (e) { failures.push(`${key}: ${e.message}`); }
  }
  banner(failures.length ? `${verb} failed for ${failures.join("; ")}` : "");
  restart(true);
}

function setupList() {
  const filters = { "f-q": "q", "f-status": "status", "f-project": "project", "f-owner": "owner" };
  let typing = null;
  for (const [id, name] of Object.entries(filters)) {
    const input = $(id);
    input.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => { list[name] = input.value; list.offset = 0; restart(true); }, id === "f-q" ? 250 : 0);
    });
  }
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.addEventListener("click", () => {
      if (list.sort === th.dataset.sort) list.order = list.order === "asc" ? "desc" : "asc";
      else { list.sort = th.dataset.sort; list.order = th.dataset.sort.startsWith("time") || th.dataset.sort === "run_time" ? "desc" : "asc"; }
      updateSortHeaders();
      restart(true);
    });
  }
  $("rows").addEventListener("change", (e) => {
    const tr = e.target.closest("tr");
    if (!tr || e.target.type !== "checkbox") return;
    if (e.target.checked) list.selected.add(tr.dataset.key); else list.selected.delete(tr.dataset.key);
    tr.classList.toggle("selected", e.target.checked);
    updateBulkButtons();
  });
  $("select-all").addEventListener("change", (e) => {
    for (const [key, entry] of list.rows) {
      if (e.target.checked) list.selected.add(key); else list.selected.delete(key);
      entry.tr.querySelector("input").checked = e.target.checked;
      entry.tr.classList.toggle("selected", e.target.checked);
    }
    updateBulkButtons();
  });
  $("prev").addEventListener("click", () => { list.offset = Math.max(0, list.offset - list.limit); restart(true); });
  $("next").addEventListener("click", () => { list.offset += list.limit; restart(true); });
  $("page-size").addEventListener("change", (e) => { list.limit = Number(e.target.value); list.offset = 0; restart(true); });
  $("bulk-stop").addEventListener("click", () => bulk("stop"));
  $("bulk-delete").addEventListener("click", () => bulk("delete"));
  $("bulk-compare").addEventListener("click", () => {
    const keys = Array.from(list.selected);
    if (keys.length) location.hash = experimentHash(keys[0], keys.slice(1));
  });
  updateSortHeaders();
}

// Run times of running experiments tick between refreshes.
setInterval(() => {
  for (const cell of document.querySelectorAll("td.run-time[data-started]")) {
    cell.textContent = fmtDuration(serverNow() - Number(cell.dataset.started));
  }
}, 1000);

// ---- one experiment ----

const detail = { key: null, timer: null, status: null };

const FIELDS = [
  ["Script", (r) => r.filename], ["Arguments", (r) => (r.args || []).join(" ")],
  ["Project", (r) => r.project], ["Owner", (r) => r.owner], ["Python", (r) => r.pythonver],
  ["Added", (r) => fmtTime(r.time_added)], ["Started", (r) => fmtTime(r.time_started)],
  ["Last checkpoint", (r) => fmtTime(r.time_last_checkpoint)], ["Finished", (r) => fmtTime(r.time_finished)],
  ["Exit code", (r) => r.info && r.info.exit_code], ["Signal", (r) => r.info && r.info.signal],
  ["Reason", (r) => r.info && r.info.reason], ["Worker", (r) => r.info && r.info.worker_host], ["Metric", (r) => r.metric],
  ["Max duration", (r) => r.max_duration], ["Resources", (r) => r.resources_needed && JSON.stringify(r.resources_needed)],
  ["Requirements", (r) => (r.pythonenv || []).join(", ")],
];

async function refreshDetail() {
  const key = detail.key;
  let data;
  try { data = await api(keyPath(key)); }
  catch (e) { if (key === detail.key) banner(`${key}: ${e.message}`); return; }
  if (key !== detail.key) return;
  banner("");
  clockSkew = data.now - Date.now() / 1000;
  const row = data.row;
  detail.status = row.status;
  $("d-key").textContent = key;
  $("d-status").replaceWith(Object.assign(badge(row.status), { id: "d-status" }));
  $("d-malformed").hidden = !row.malformed;
  $("d-malformed").textContent = row.malformed ? "Malformed record: " + row.malformed : "";
  $("d-stop").hidden = !(row.status === "running" || row.status === "waiting");
  $("d-delete").hidden = row.status === "running" || row.status === "waiting";

  const fields = $("d-fields");
  fields.replaceChildren();
  const record = data.record || {};
  const pairs = [["Status", row.status], ["Run time", fmtDuration(row.run_time)]].concat(FIELDS.map(([label, get]) => [label, get(record)]));
  for (const [label, value] of pairs) {
    if (value === undefined || value === null || value === "") continue;
    fields.appendChild(el("dt", null, label));
    fields.appendChild(el("dd", null, value));
  }
  const tbody = $("d-artifacts").tBodies[0];
  tbody.replaceChildren();
  for (const artifact of data.artifacts || []) {
    const tr = el("tr");
    tr.appendChild(el("td", null, artifact.tag));
    tr.appendChild(el("td", null, artifact.stored ? fmtSize(artifact.size) : "not stored"));
    tr.appendChild(el("td", null, artifact.location || artifact.key || ""));
    const cell = el("td");
    if (artifact.stored) {
      const link = el("a", null, "download");
      link.href = keyPath(key) + "/artifacts/" + encodeURIComponent(artifact.tag);
      link.setAttribute("download", "");
      cell.appendChild(link);
    }
    tr.appendChild(cell);
    tbody.appendChild(tr);
  }
  $("d-record").textContent = JSON.stringify(record, null, 2);
}

// ---- the live log ----

// A terminal's view of the output: "\n" ends a line, "\r" moves back to the line's start so what follows
// overwrites it (progress bars), ANSI colour and cursor codes are dropped.
const log = { key: null, start: 0, next: 0, raw: "", started: false, timer: null, busy: false, committed: null, current: null, cursor: 0 };

function terminalLines(text, previous) {
  const finished = [];
  let line = previous;
  for (const token of text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").split(/(\r|\n)/)) {
    if (token === "\n") { finished.push(line); line = ""; log.cursor = 0; }
    else if (token === "\r") log.cursor = 0;
    else if (token) {
      line = line.slice(0, log.cursor) + token + line.slice(log.cursor + token.length);
      log.cursor += token.length;
    }
  }
  return { finished, current: line };
}

function resetLogView() {
  const pre = $("log");
  pre.replaceChildren();
  log.committed = document.createTextNode("");
  log.current = document.createTextNode("");
  pre.append(log.committed, log.current);
  log.cursor = 0;
}

function appendLog(text) {
  const pre = $("log");
  const pinned = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8;
  const { finished, current } = terminalLines(text, log.current.data);
  if (finished.length) log.committed.appendData(finished.join("\n") + "\n");
  log.current.data = current;
  if (pinned) pre.scrollTop = pre.scrollHeight;
}

async function pollLog() {
  if (log.busy || !log.key) return;
  log.busy = true;
  const key = log.key;
  try {
    const initial = !log.started;
    const data = await api(keyPath(key) + "/log" + (initial ? "" : "?offset=" + log.next));
    if (key !== log.key) return;
    if (initial) { log.started = true; log.start = data.offset; $("log-earlier").hidden = data.offset === 0; }
    if (data.text) { log.raw += data.text; appendLog(data.text); }
    log.next = data.next;
    $("log-state").textContent = `${fmtSize(data.size)}${data.complete ? " · complete" : " · live"}`;
    if (data.complete) { clearInterval(log.timer); log.timer = null; }
  } catch (e) {
    if (key === log.key) $("log-state").textContent = "cannot read the log: " + e.message;
  } finally {
    log.busy = false;
  }
}

async function loadEarlier() {
  const key = log.key;
  const from = Math.max(0, log.start - 64 * 1024);
  const data = await api(`${keyPath(key)}/log?offset=${from}&limit=${log.start - from}`);
  if (key !== log.key) return;
  const pre = $("log");
  const fromBottom = pre.scrollHeight - pre.scrollTop;
  log.raw = data.text + log.raw;
  log.start = data.offset;
  resetLogView();
  appendLog(log.raw);
  pre.scrollTop = pre.scrollHeight - fromBottom;
  $("log-earlier").hidden = log.start === 0;
}

function startLog(key) {
  stopLog();
  Object.assign(log, { key, start: 0, next: 0, raw: "", started: false });
  resetLogView();
  $("log-state").textContent = "";
  pollLog();
  log.timer = setInterval(pollLog, LOG_POLL_MS);
}

function stopLog() {
  if (log.timer) clearInterval(log.timer);
  log.timer = null;
  log.key = null;
}

function setupDetail() {
  $("d-stop").addEventListener("click", async () => {
    if (!window.confirm(`Stop ${detail.key}?`)) return;
    try { await post(keyPath(detail.key) + "/stop"); } catch (e) { banner(e.message); }
    refreshDetail();
  });
  $("d-delete").addEventListener("click", async () => {
    if (!window.confirm(`Delete ${detail.key} and its artifacts?`)) return;
    try { await post(keyPath(detail.key) + "/delete"); location.hash = "#/"; } catch (e) { banner(e.message); }
  });
  $("log-earlier").addEventListener("click", () => loadEarlier().catch((e) => banner(e.message)));
}

// ---- routing ----

function route() {
  const match = location.hash.match(/^#\/e\/([^?]+)(?:\?vs=(.*))?$/);
  clearInterval(list.timer); list.timer = null;
  clearInterval(detail.timer); detail.timer = null;
  stopLog();
  stopCharts();
  banner("");
  if (match) {
    $("list-view").hidden = true;
    $("detail-view").hidden = false;
    detail.key = decodeURIComponent(match[1]);
    $("d-key").textContent = detail.key;
    $("d-fields").replaceChildren();
    refreshDetail();
    detail.timer = setInterval(refreshDetail, POLL_MS);
    startLog(detail.key);
    startCharts(detail.key, (match[2] || "").split(",").filter(Boolean).map(decodeURIComponent));
  } else {
    detail.key = null;
    $("detail-view").hidden = true;
    $("list-view").hidden = false;
    restart(false);
    list.timer = setInterval(() => refreshList(false), POLL_MS);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setupList();
  setupDetail();
  setupCharts();
  window.addEventListener("hashchange", route);
  route();
});
