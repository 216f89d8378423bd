// The sandbox console: polls the inspection API of the page's own origin
// and renders calls, their timelines, codes and pushes. No framework, no
// external request.
"use strict";
const api = "/_sandbox/v1";
let lastCalls = "", lastDeliveries = "", lastRequests = "", lastFaults = "";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c));
  return e;
}

async function call(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(api + path, opts);
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.status);
  return j;
}

function time(t) { return new Date(t).toISOString().slice(11, 19); }

function renderCalls(calls, deliveries) {
  const bySession = new Map();
  for (const d of deliveries) {
    for (const s of d.sessionIds) {
      if (!bySession.has(s)) bySession.set(s, []);
      bySession.get(s).push(d);
    }
  }
  const box = document.getElementById("calls");
  box.replaceChildren();
  document.getElementById("empty").hidden = calls.length > 0;
  for (const c of calls.slice().reverse()) {
    const pushes = bySession.get(c.sessionId) || [];
    const head = el("header", {},
      el("span", { class: "api" }, c.api),
      el("span", { class: "num callee" }, c.callee),
      el("span", {}, "scenario " + c.scenario),
      el("span", { class: "state" }, c.ended ? "ended, stateCode " + c.stateCode : "in progress"));
    const art = el("article", { class: "call", "data-session": c.sessionId }, head,
      el("div", { class: "sid" }, c.sessionId));
    if (c.caller) art.append(el("div", {}, "caller ", el("span", { class: "num" }, c.caller)));
    if (c.verifyCode) art.append(el("div", {}, "code read out: ", el("span", { class: "code" }, c.verifyCode)));
    if (c.digits.length) art.append(el("div", {}, "keys pressed: ", el("span", { class: "mono" }, c.digits.join(" "))));
    const tl = el("ol", { class: "timeline", "aria-label": "timeline" });
    for (const e of c.events) {
      let label = e.type + " " + time(e.time);
      if (e.stateCode !== undefined) label += " (" + e.stateCode + ")";
      if (e.digits) label += " [" + e.digits + "]";
      tl.append(el("li", { class: "event " + e.type }, label));
    }
    if (pushes.some(d => d.kind === "fee")) tl.append(el("li", { class: "fee" }, "CDR"));
    art.append(tl);
    const ul = el("ul", { class: "deliveries" });
    for (const d of pushes) {
      const verdict = d.error ? "failed: " + d.error : "http " + d.status;
      const li = el("li", { class: "delivery", "data-id": d.id },
        el("span", { class: "mono" }, "#" + d.id),
        el("span", {}, d.eventType + (d.repushOf ? " (re-push of #" + d.repushOf + ")" : d.attempt > 1 ? " (attempt " + d.attempt + ")" : "")),
        el("span", { class: "url" }, d.url),
        el("span", { class: d.ok ? "ok" : "bad" }, verdict),
        el("span", {}, d.latencyMs.toFixed(1) + " ms"));
      if (d.answer) li.append(el("span", { class: "mono" }, "answer: " + d.answer));
      li.append(el("button", { type: "button", class: "repush", "data-id": d.id }, "Re-push"));
      ul.append(li);
    }
    art.append(ul);
    box.append(art);
  }
}

function renderRequests(reqs) {
  const ol = document.getElementById("requests");
  ol.replaceChildren();
  for (const r of reqs.slice().reverse()) {
    let s = "#" + r.seq + " " + time(r.time) + " " + r.method + " " + (r.api || r.path) + " → " + r.verdict;
    if (r.resultcode) s += " " + r.resultcode;
    if (r.fault) s += " (fault " + r.fault + ")";
    if (r.problems.length) s += ": " + r.problems.join("; ");
    ol.append(el("li", { class: "request " + r.verdict }, s));
  }
}

function renderFaults(faults) {
  const ul = document.getElementById("faults");
  ul.replaceChildren();
  for (const f of faults) {
    let s = f.action + (f.code ? " " + f.code : "") + " on " + (f.api || "any API");
    if (f.callee) s += " for " + f.callee;
    s += f.count < 0 ? ", every request" : ", next " + f.count;
    ul.append(el("li", { class: "fault" }, s));
  }
}

async function refresh() {
  try {
    const [c, d, r, f, s] = await Promise.all([
      call("GET", "/calls?limit=50"), call("GET", "/deliveries?limit=500"),
      call("GET", "/requests?limit=50"), call("GET", "/faults"), call("GET", "/scenarios")]);
    showScenarios(s);
    const cs = JSON.stringify(c), ds = JSON.stringify(d);
    if (cs !== lastCalls || ds !== lastDeliveries) {
      lastCalls = cs; lastDeliveries = ds;
      renderCalls(c.calls, d.deliveries);
    }
    const rs = JSON.stringify(r);
    if (rs !== lastRequests) { lastRequests = rs; renderRequests(r.requests); }
    const fs = JSON.stringify(f);
    if (fs !== lastFaults) { lastFaults = fs; renderFaults(f.faults); }
    document.getElementById("status").textContent = "live · updated " + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("status").textContent = "cannot reach the sandbox: " + e.message;
  }
}

function showScenarios(s) {
  const nums = Object.entries(s.numbers).map(([n, sc]) => n + ": " + sc).join(", ");
  document.getElementById("scenario-now").textContent = "default: " + s.default + (nums ? "; " + nums : "") +
    (s.next ? "; next call: " + s.next : "");
}

async function loadScenarios() {
  const s = await call("GET", "/scenarios");
  const sel = document.querySelector("#scenario-form select[name=scenario]");
  if (!sel.options.length) for (const n of s.scenarios) sel.append(el("option", {}, n));
  showScenarios(s);
}

function flash(msg) { document.getElementById("status").textContent = msg; }

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("calls").addEventListener("click", async ev => {
    const b = ev.target.closest("button.repush");
    if (!b) return;
    try {
      const d = await call("POST", "/deliveries/" + b.dataset.id + "/repush");
      flash("re-pushed #" + b.dataset.id + " as #" + d.id);
    } catch (e) { flash("re-push failed: " + e.message); }
    refresh();
  });
  document.getElementById("scenario-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try {
      const next = f.get("next") === "on";
      await call("POST", "/scenarios", { number: next ? "" : f.get("number").trim(), scenario: f.get("scenario"), next });
      await loadScenarios();
    } catch (e) { flash("scenario: " + e.message); }
  });
  document.getElementById("fault-form").addEventListener("submit", async ev => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const body = { action: f.get("action"), count: parseInt(f.get("count"), 10) || 1,
      delayMs: parseInt(f.get("delayMs"), 10) || 0, api: f.get("api") };
    if (body.action === "result-code") body.code = f.get("code").trim();
    try { await call("POST", "/faults", body); } catch (e) { flash("fault: " + e.message); }
    refresh();
  });
  document.getElementById("clear-faults").addEventListener("click", async () => {
    await call("DELETE", "/faults"); refresh();
  });
  document.getElementById("reset").addEventListener("click", async () => {
    await call("POST", "/reset"); await loadScenarios(); refresh();
  });
  loadScenarios().catch(e => flash(e.message));
  refresh();
  setInterval(refresh, 500);
});
