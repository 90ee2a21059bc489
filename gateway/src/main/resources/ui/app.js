// The Gatehouse dashboard: one page over the admin API, signed in by the session cookie.
// Everything shown comes from clients (model and key names, errors), so it is written with
// textContent, never as HTML.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const REFRESH_MS = 5000;
let refreshTimer = null;

async function api(path, options = {}) {
  const headers = { "Accept": "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.method && options.method !== "GET") headers["x-csrf-token"] = CSRF;
  const res = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "same-origin",
  });
  if (res.status === 401) {
    location.href = "/ui/"; // the session expired: sign in again
    throw new Error("signed out");
  }
  const json = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(json && json.error ? json.error.message : "HTTP " + res.status);
  return json;
}

function showError(e) {
  const p = document.getElementById("error");
  p.textContent = e ? String(e.message || e) : "";
  p.hidden = !e;
}

function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function button(label, onClick) {
  const b = el("button", label, { type: "button" });
  b.addEventListener("click", () => onClick().catch(showError));
  return b;
}

/** Fills a table: columns are [header, row => cell text or Node]. */
function fillTable(table, columns, rows) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  columns.forEach(([title]) => head.appendChild(el("th", title)));
  const body = table.createTBody();
  if (rows.length === 0) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = columns.length;
    cell.textContent = "Nothing yet.";
    return;
  }
  for (const row of rows) {
    const tr = body.insertRow();
    for (const [, value] of columns) {
      const v = value(row);
      const td = tr.insertCell();
      if (v instanceof Node) td.appendChild(v); else td.textContent = v === null || v === undefined ? "–" : String(v);
    }
  }
}

const usd = v => v === null || v === undefined ? "–" : "$" + Number(v).toFixed(4);
function size(bytes) {
  if (bytes === null || bytes === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  for (; bytes >= 1024 && i < units.length - 1; i++) bytes /= 1024;
  return (i === 0 ? bytes : bytes.toFixed(1)) + " " + units[i];
}

// ---- overview ----
const charts = {};

function chart(id, series, data) {
  const target = document.getElementById(id);
  if (!charts[id]) {
    charts[id] = new uPlot({
      width: Math.max(320, target.clientWidth || 480), height: 180,
      series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2, points: { show: true, size: 5 } }))],
      axes: [{}, { size: 60 }],
    }, data, target);
  } else {
    charts[id].setData(data);
  }
}

async function overview() {
  const { data } = await api("/admin/traffic");
  const t = data.map(m => Date.parse(m.at) / 1000);
  const col = f => data.map(m => m[f]);
  chart("chart-requests", [["requests", "#2563eb"], ["errors", "#dc2626"]], [t, col("requests"), col("errors")]);
  chart("chart-tokens", [["prompt", "#7c3aed"], ["completion", "#059669"]],
    [t, data.map(m => m["prompt-tokens"] / 60), data.map(m => m["completion-tokens"] / 60)]);
  chart("chart-latency", [["p50", "#2563eb"], ["p95", "#f59e0b"]], [t, col("latency-p50-ms"), col("latency-p95-ms")]);
  chart("chart-first-token", [["p50", "#2563eb"], ["p95", "#f59e0b"]],
    [t, col("first-token-p50-ms"), col("first-token-p95-ms")]);
  chart("chart-spend", [["USD", "#059669"]], [t, col("cost-usd")]);
  const sum = f => data.reduce((a, m) => a + m[f], 0);
  const requests = sum("requests");
  const totals = document.getElementById("overview-totals");
  totals.replaceChildren(
    el("span", requests + " requests", { id: "total-requests" }),
    el("span", (requests ? (100 * sum("errors") / requests).toFixed(1) : "0.0") + " % errors"),
    el("span", (sum("completion-tokens") / 3600).toFixed(2) + " tokens/s generated"),
    el("span", usd(sum("cost-usd")) + " spent"));
}

// ---- usage ----
let lastUsage = [];

async function usage() {
  const group = document.getElementById("usage-group").value;
  const params = new URLSearchParams({ "group-by": group });
  const from = document.getElementById("usage-from").value;
  const to = document.getElementById("usage-to").value;
  if (from) params.set("from", new Date(from).toISOString());
  if (to) params.set("to", new Date(to).toISOString());
  const { data } = await api("/admin/usage?" + params);
  lastUsage = data;
  const label = r => (group === "key" && r.name ? r.name : r[group]) ?? "(none)";
  fillTable(document.getElementById("usage-table"), [
    [group, label], ["requests", r => r.requests], ["errors", r => r.errors],
    ["prompt tokens", r => r["prompt-tokens"]], ["completion tokens", r => r["completion-tokens"]],
    ["cost", r => usd(r["cost-usd"])], ["avg latency ms", r => r["average-latency-ms"]],
  ], data);
  const most = Math.max(1, ...data.map(r => r.requests));
  document.getElementById("chart-usage").replaceChildren(...data.map(r => {
    const row = el("div", null, { class: "bar" });
    row.append(el("span", label(r)), el("meter", null, { min: "0", max: String(most), value: String(r.requests) }),
      el("span", r.requests + " requests · " + usd(r["cost-usd"])));
    return row;
  }));
}

function usageCsv() {
  const group = document.getElementById("usage-group").value;
  const header = [group, "requests", "errors", "prompt-tokens", "completion-tokens", "cost-usd", "average-latency-ms"];
  const quote = v => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s; // no spreadsheet formulas
  };
  const lines = [header.join(",")].concat(lastUsage.map(r => header.map(h => quote(r[h])).join(",")));
  const link = el("a", null, { download: "gatehouse-usage-by-" + group + ".csv" });
  link.href = URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" }));
  link.click();
  URL.revokeObjectURL(link.href);
}

// ---- providers and fallbacks ----
async function fallbacks() {
  const providers = (await api("/admin/providers")).data;
  fillTable(document.getElementById("providers-table"), [
    ["provider", p => p.provider], ["circuit", p => p.circuit],
    ["latest failures", p => p["recent-failures"].map(f => new Date(f.at).toLocaleTimeString() + " " + f.failure).join("; ")],
  ], providers);
  const { data } = await api("/admin/fallbacks");
  fillTable(document.getElementById("fallbacks-table"), [
    ["when", r => new Date(r.at).toLocaleString()], ["model", r => r.model], ["answered by", r => r.backend],
    ["status", r => r.status], ["passed over, and why", r => r.fallbacks],
  ], data);
}

// ---- models ----
async function models() {
  const { data, pulls } = await api("/admin/models");
  fillTable(document.getElementById("models-table"), [
    ["name", m => m.name], ["architecture", m => m.architecture], ["state", m => m.state + (m.error ? ": " + m.error : "")],
    ["device", m => m.device], ["running", m => m.running], ["waiting", m => m.waiting],
    ["KV cache", m => m["kv-bytes-total"] ? size(m["kv-bytes-used"]) + " of " + size(m["kv-bytes-total"]) : null],
    ["prefix cache hits", m => m["prefix-cache-hit-ratio"] === null || m["prefix-cache-hit-ratio"] === undefined
      ? null : (100 * m["prefix-cache-hit-ratio"]).toFixed(0) + " %"],
    ["", m => m.state === "loaded"
      ? button("Unload", () => api("/admin/models/" + encodeURIComponent(m.name) + "/unload", { method: "POST" }).then(models))
      : button("Load", () => api("/admin/models/" + encodeURIComponent(m.name) + "/load", { method: "POST" }).then(models))],
  ], data);
  showPulls(pulls);
}

function showPulls(pulls) {
  const box = document.getElementById("pulls");
  box.replaceChildren(...pulls.map(p => {
    const row = el("div", null, { class: "pull", "data-repo": p.repo });
    const total = p["bytes-total"] || 0;
    row.appendChild(el("span", p.repo + " · " + p.state + (p.error ? ": " + p.error : "")));
    const bar = el("progress", null, { max: String(total || 1), value: String(p.state === "done" ? total || 1 : p["bytes-done"]) });
    row.appendChild(bar);
    row.appendChild(el("span", size(p["bytes-done"]) + (total ? " of " + size(total) : "")));
    return row;
  }));
}

async function pull(repo) {
  const started = await api("/admin/models/pull", { method: "POST", body: { repo } });
  for (let p = started; ; p = await api("/admin/models/pulls/" + encodeURIComponent(p.id))) {
    const { pulls } = await api("/admin/models");
    showPulls(pulls);
    if (p.state !== "running" && p.state !== "queued") break;
    await new Promise(r => setTimeout(r, 500));
  }
  await models();
}

// ---- keys ----
async function keys() {
  const { data } = await api("/admin/keys");
  fillTable(document.getElementById("keys-table"), [
    ["name", k => k.name], ["id", k => k.id], ["models", k => k.models.length ? k.models.join(", ") : "all"],
    ["rpm", k => k.rpm], ["tpm", k => k.tpm],
    ["budget", k => k["max-budget-usd"] === null ? null : usd(k["max-budget-usd"]) + (k["budget-period"] ? " / " + k["budget-period"] : "")],
    ["spent", k => k["spend-usd"] === undefined ? null : usd(k["spend-usd"])],
    ["created", k => new Date(k["created-at"]).toLocaleString()],
    ["", k => button("Revoke", async () => {
      if (confirm("Revoke the key " + k.name + "? Requests with it are refused at once.")) {
        await api("/admin/keys/" + encodeURIComponent(k.id), { method: "DELETE" });
        await keys();
      }
    })],
  ], data);
}

async function createKey() {
  const body = { name: document.getElementById("key-name").value };
  const number = id => document.getElementById(id).value === "" ? undefined : Number(document.getElementById(id).value);
  if (number("key-rpm") !== undefined) body.rpm = number("key-rpm");
  if (number("key-tpm") !== undefined) body.tpm = number("key-tpm");
  if (number("key-budget") !== undefined) body["max-budget-usd"] = number("key-budget");
  if (document.getElementById("key-period").value) body["budget-period"] = document.getElementById("key-period").value;
  const created = await api("/admin/keys", { method: "POST", body });
  document.getElementById("new-key-value").textContent = created.key;
  document.getElementById("new-key").hidden = false;
  document.getElementById("key-form").reset();
  await keys();
}

// ---- pages ----
const PAGES = { overview, usage, fallbacks, models, keys };

function show() {
  const page = PAGES[location.hash.slice(1)] ? location.hash.slice(1) : "overview";
  for (const name of Object.keys(PAGES)) document.getElementById(name).hidden = name !== page;
  document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active", a.dataset.page === page));
  document.getElementById("new-key").hidden = true;
  clearInterval(refreshTimer);
  const load = () => PAGES[page]().then(() => showError(null)).catch(showError);
  load();
  if (page === "overview" || page === "models" || page === "fallbacks") refreshTimer = setInterval(load, REFRESH_MS); // live
}

function onSubmit(id, action) {
  document.getElementById(id).addEventListener("submit", e => {
    e.preventDefault();
    action().catch(showError);
  });
}

window.addEventListener("hashchange", show);
window.addEventListener("DOMContentLoaded", () => {
  onSubmit("usage-form", usage);
  onSubmit("key-form", createKey);
  onSubmit("pull-form", () => pull(document.getElementById("pull-repo").value.trim()));
  document.getElementById("usage-csv").addEventListener("click", usageCsv);
  document.getElementById("sign-out").addEventListener("click", () =>
    api("/ui/logout", { method: "POST" }).finally(() => { location.href = "/ui/"; }));
  show();
});
