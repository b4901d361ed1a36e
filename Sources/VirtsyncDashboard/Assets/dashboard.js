// virtsync dashboard: polls GET /api/v1/cluster (a ClusterView) and renders it.
// Every string from the API goes into the DOM as text (createElement, textContent, dataset,
// title); nothing is ever parsed as HTML.
"use strict";
(() => {
  const API = "/api/v1/cluster";
  const TOKEN_KEY = "virtsync-token";
  const POLL_MS = 2000;
  const TIMEOUT_MS = 8000;
  const SYMBOLS = {
    create: "+", update: "~", replace: "-/+", start: ">", stop: ".", restart: "@",
    migrate: "->", delete: "-", adopt: "&", suspend: "||", resume: "|>",
  };
  // The terminal renderer's colour of an action (green, yellow, red).
  const TONE = {
    create: "add", start: "add", adopt: "add", update: "change", restart: "change", migrate: "change",
    stop: "change", suspend: "change", resume: "change", replace: "remove", delete: "remove",
  };
  const ACTIONS = Object.keys(SYMBOLS);
  const NUMERIC = new Set(["Epoch", "Seconds", "Downtime ms", "Pass"]);   // right-aligned table columns

  const $ = (id) => document.getElementById(id);
  const shown = {};        // section id -> JSON of the data it was last rendered from
  let skew = 0;            // server clock minus browser clock, in ms
  let ready = false;
  let inFlight = false;
  let next = 0;
  let memoryToken = "";    // used when localStorage is not available

  // el("span", {class, title, data: {...}, other attributes}, child or text, ...)
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "title") e.title = String(v);
      else if (k === "data") {
        for (const [dk, dv] of Object.entries(v)) if (dv !== undefined && dv !== null) e.dataset[dk] = String(dv);
      } else e.setAttribute(k, String(v));
    }
    for (const kid of kids.flat(2)) {
      if (kid === undefined || kid === null || kid === false) continue;
      e.append(kid instanceof Node ? kid : String(kid));
    }
    return e;
  }

  // ---- formatting
  const arr = (x) => (Array.isArray(x) ? x : []);
  const str = (x) => (x === undefined || x === null ? "" : String(x));
  const num = (x) => (typeof x === "number" ? x : "?");
  const count = (n) => (typeof n === "number" ? String(n) : "—");
  const plural = (n, word) => `${num(n)} ${word}${n === 1 ? "" : "s"}`;
  const pad = (n) => String(n).padStart(2, "0");
  const short = (c) => str(c).slice(0, 12);
  const dec1 = (x) => (typeof x === "number" ? x.toFixed(1) : "—");
  const mib = (m) => (typeof m !== "number" ? "—" : m >= 1024 ? `${(m / 1024).toFixed(1)} GiB` : `${m} MiB`);
  const serverNow = () => Date.now() + skew;

  function date(s) {
    const t = Date.parse(s);
    return Number.isFinite(t) ? new Date(t) : null;
  }
  // HH:MM:SS (local time), with the date in front when it is not today.
  function clock(s) {
    const d = date(s);
    if (!d) return "—";
    const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    if (d.toDateString() === new Date(serverNow()).toDateString()) return t;
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}`;
  }
  function relative(s) {
    const d = date(s);
    if (!d) return "";
    const sec = Math.round((serverNow() - d.getTime()) / 1000);
    if (sec < 5) return "just now";
    if (sec < 90) return `${sec}s ago`;
    if (sec < 90 * 60) return `${Math.round(sec / 60)}m ago`;
    if (sec < 48 * 3600) return `${Math.round(sec / 3600)}h ago`;
    return `${Math.round(sec / 86400)}d ago`;
  }
  const rel = (s) => el("span", { class: "rel", title: s, data: { rel: s } }, relative(s));
  const time = (s) => el("time", { datetime: s, title: s }, clock(s));
  // Relative times move on between renders (a section is rebuilt only when its data changes).
  function tick() {
    for (const e of document.querySelectorAll("[data-rel]")) e.textContent = relative(e.dataset.rel);
  }
  function plannedText(p) {
    const rank = (a) => (ACTIONS.includes(a) ? ACTIONS.indexOf(a) : ACTIONS.length);
    return Object.entries(p || {})
      .filter(([, n]) => typeof n === "number" && n > 0)
      .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : 1))
      .map(([a, n]) => `${n} ${a}`)
      .join(", ");
  }

  // ---- header and banners
  function renderHeader(v) {
    const s = v.server || {};
    const server = $("server");
    server.textContent = s.kind === "agent" && s.host ? `agent on ${s.host}` : str(s.kind);
    server.title = s.version ? `virtsync ${s.version}` : "";
    $("source").textContent = str(v.source);
    $("source").title = str(v.source);
    $("commit").textContent = v.commit ? short(v.commit) : "no commit";
    $("commit").title = str(v.commit);
    $("updated").textContent = `updated ${clock(v.generatedAt)}`;
    $("updated").title = str(v.generatedAt);
    const plan = v.plan || {};
    const notes = arr(plan.notes).map((n) => n.severity);
    const summary = $("summary");
    summary.textContent = str(plan.summary);
    summary.dataset.severity = notes.includes("error") ? "error" : notes.includes("warning") ? "warning"
      : arr(plan.steps).length ? "changes" : "none";
  }

  function renderBanners(list) {
    return arr(list).map((b) => {
      const where = b.file ? [b.file, b.line, b.line !== undefined ? b.column : undefined]
        .filter((x) => x !== undefined && x !== null).join(":") : "";
      return el("div", { class: "banner", data: { kind: b.kind, severity: b.severity === "error" ? "error" : "warning", host: b.host } },
        el("span", { class: "badge" }, str(b.kind)),
        where && el("code", { class: "loc" }, where),
        el("span", { class: "msg" }, str(b.message)),
        b.commit && el("span", { class: "commit", title: b.commit }, `commit ${short(b.commit)}`));
    });
  }

  // ---- hosts and VMs
  function capacityBar(label, used, cap, fmt) {
    const known = typeof cap === "number" && cap > 0 && typeof used === "number";
    const pct = known ? (used / cap) * 100 : null;
    const level = pct === null ? "unknown" : pct > 100 ? "over" : pct > 80 ? "high" : "ok";
    let text = typeof cap === "number" && cap > 0 ? `${fmt(used)} / ${fmt(cap)}` : `${fmt(used)} used`;
    if (known) {
      text = used >= 1024 && cap >= 1024 && fmt === mib
        ? `${(used / 1024).toFixed(1)} / ${(cap / 1024).toFixed(1)} GiB` : `${fmt(used)} / ${fmt(cap)}`;
    }
    const fill = el("span", { class: "cap-fill" });
    fill.style.width = `${known ? Math.min(pct, 100).toFixed(1) : 0}%`;   // CSSOM: the CSP forbids style attributes
    return el("div", { class: "cap", data: { level }, title: known ? `${label}: ${pct.toFixed(0)} % of capacity` : `${label}: capacity not known` },
      el("span", { class: "cap-label" }, label),
      el("span", { class: "cap-text" }, text),
      el("span", { class: "cap-pct" }, known ? `${pct.toFixed(0)} %` : ""),
      el("span", { class: "cap-track" }, fill));
  }

  function agentLine(a) {
    if (!a) return el("div", { class: "agent none" }, "no agent report");
    const tip = [a.lastPass !== undefined && `pass ${a.lastPass}`, a.lastReason && `reason: ${a.lastReason}`,
      a.ready !== undefined && `ready: ${a.ready}`, `reported ${str(a.reportedAt)}`];
    return el("div", { class: "agent", title: tip.filter(Boolean).join("\n") },
      "agent ", el("span", { class: "word", data: { outcome: a.lastOutcome } }, a.lastOutcome || "no pass yet"),
      " · ", rel(a.reportedAt));
  }

  function leaseLine(l) {
    if (!l) return el("div", { class: "lease none" }, "no HA lease");
    return el("div", { class: "lease", title: `HA lease ${l.id}` },
      el("span", { class: "word" }, "lease"), el("span", { class: "id" }, str(l.id)),
      typeof l.secondsLeft === "number" && el("span", { class: "left", data: { low: l.secondsLeft < 3 || null } }, ` · ${l.secondsLeft.toFixed(1)} s left`));
  }

  function hostColumn(h, vms, rows) {
    const flags = [h.dead && "dead", h.reachable === false && "unreachable", h.maintenance && "maintenance", h.extra && "not in spec"].filter(Boolean);
    const state = flags[0] || "reachable";
    const badges = (flags.length ? flags : ["reachable"]).map((f) =>
      el("span", { class: "badge", data: { state: f }, title: f === "unreachable" ? h.unreachableReason || "could not be read" : undefined }, f));
    const a = h.agent || {};
    if (a.stalled) badges.push(el("span", { class: "badge bad", title: a.lastReason }, "stalled"));
    if (a.suspended) badges.push(el("span", { class: "badge warn", title: a.lastReason }, "suspended"));
    if (a.ready === false) badges.push(el("span", { class: "badge warn" }, "not ready"));
    const tip = [h.uri, ...Object.entries(h.labels || {}).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join("\n");
    const used = h.used || {}, cap = h.capacity || {};
    const head = el("div", { class: "host-head" },
      el("div", { class: "host-title" }, el("h2", { title: tip || undefined }, str(h.name)), el("span", { class: "badges" }, badges)),
      rows.agent && agentLine(h.agent),
      rows.lease && leaseLine(h.lease),
      capacityBar("mem", used.memoryMiB, cap.memoryMiB, mib),
      capacityBar("vCPU", used.vcpus, cap.vcpus, count),
      el("div", { class: "counts" }, h.extra ? plural(vms.length, "VM") : `${plural(h.vmCount, "VM")} · ${num(h.runningCount)} running`));
    const why = h.reachable === false ? `Could not be read: ${h.unreachableReason || "no reason given"}` : "";
    return el("section", { class: "host", data: { host: h.name, state } }, head, vmList(vms, why));
  }

  function unplacedColumn(vms) {
    const head = el("div", { class: "host-head" },
      el("div", { class: "host-title" }, el("h2", {}, "Not running on any reachable host")),
      el("div", { class: "counts" }, `${plural(vms.length, "VM")} · by desired host`));
    return el("section", { class: "host unplaced", data: { host: "" } }, head, vmList(vms));
  }

  const vmList = (vms, why) => el("div", { class: "vms" }, why && el("p", { class: "why" }, why),
    vms.length ? vms.map(vmCard) : el("p", { class: "empty" }, "No VMs."));

  function vmCard(vm) {
    const drift = arr(vm.drift);
    const s = vm.lastStep;
    const ha = ["HA", vm.haOwner && `owner ${vm.haOwner}`, vm.haEpoch !== undefined && `epoch ${vm.haEpoch}`].filter(Boolean).join(" · ");
    const tags = [
      vm.ha && el("span", { class: "tag ha", title: ha }, "HA"),
      drift.length > 0 && el("span", { class: "tag drift", title: drift.join("\n") }, "drift"),
      vm.desiredHost && vm.desiredHost !== vm.host && el("span", { class: "tag move", title: `the spec places it on ${vm.desiredHost}` }, `→ ${vm.desiredHost}`),
      !vm.desiredHost && el("span", { class: "tag gone", title: "the spec no longer has this VM" }, "not in spec"),
    ];
    const wants = vm.desiredPower && vm.power !== "unknown" && vm.desiredPower !== vm.power && !(vm.desiredPower === "stopped" && vm.power === "shutoff");
    const last = s
      ? el("div", { class: "last", title: [`${str(s.action)} on ${str(s.host)}: ${str(s.outcome)} in ${dec1(s.seconds)} s`,
          s.pass !== undefined && `pass ${s.pass}`, s.message, str(s.at)].filter(Boolean).join("\n") },
        `${str(s.action)} `, el("span", { class: "outcome", data: { outcome: s.outcome } }, str(s.outcome)), " · ", rel(s.at))
      : el("div", { class: "last none" }, "no step yet");
    return el("article", { class: "vm", data: { vm: vm.name, power: vm.power } },
      el("div", { class: "vm-top" }, el("span", { class: "dot" }), el("span", { class: "name", title: str(vm.name) }, str(vm.name)), tags),
      el("div", { class: "vm-facts" }, el("span", { class: "power" }, str(vm.power)), wants && el("span", { class: "wants" }, ` → ${vm.desiredPower}`),
        ` · ${mib(vm.memoryMiB)} · ${num(vm.vcpus)} vCPU`),
      last);
  }

  function renderHosts([hosts, vms]) {
    hosts = arr(hosts).slice();   // a copy: a host that only a VM names gets a column too
    const byHost = new Map(hosts.map((h) => [h.name, []]));
    const unplaced = [];
    for (const vm of arr(vms)) {
      if (!vm.host) { unplaced.push(vm); continue; }
      if (!byHost.has(vm.host)) { byHost.set(vm.host, []); hosts.push({ name: vm.host, extra: true }); }
      byHost.get(vm.host).push(vm);
    }
    unplaced.sort((a, b) => str(a.desiredHost).localeCompare(str(b.desiredHost)) || str(a.name).localeCompare(str(b.name)));
    const rows = { agent: hosts.some((h) => h.agent), lease: hosts.some((h) => h.lease) };
    const cols = hosts.map((h) => hostColumn(h, byHost.get(h.name), rows));
    if (unplaced.length) cols.push(unplacedColumn(unplaced));
    if (!cols.length) cols.push(el("p", { class: "empty" }, "The spec declares no hosts."));
    $("hosts").style.setProperty("--cols", String(Math.max(cols.length, 1)));
    return cols;
  }

  // ---- plan
  function stepItem(s) {
    const action = str(s.action);
    return el("li", { class: "step", data: { disruption: s.disruption, action, tone: TONE[action] || "change" },
      title: arr(s.fields).length ? `fields: ${arr(s.fields).join(", ")}` : undefined },
      el("span", { class: "sym" }, SYMBOLS[action] || "?"), " ",
      el("span", { class: "what" }, `${action} ${str(s.kind)} `, el("b", {}, str(s.name))), " ",
      el("span", { class: "disr" }, `[${str(s.disruption)}]`), " ",
      el("span", { class: "reason" }, `— ${str(s.reason)}`));
  }

  function renderPlan(plan) {
    plan = plan || {};
    const steps = arr(plan.steps), notes = arr(plan.notes);
    const groups = new Map();
    for (const s of steps) {
      if (!groups.has(str(s.host))) groups.set(str(s.host), []);
      groups.get(str(s.host)).push(s);
    }
    return [
      el("h2", {}, "Plan"),
      steps.length
        ? el("div", { class: "plan-hosts" }, [...groups].map(([h, list]) => el("div", { class: "plan-host", data: { host: h } },
          el("h3", {}, `host ${h}`), el("ul", {}, list.map(stepItem)))))
        : el("p", { class: "no-changes" }, "No changes."),
      notes.length > 0 && el("ul", { class: "notes" }, notes.map((n) => el("li", { class: "note", data: { severity: n.severity } },
        el("span", { class: "sev" }, `${str(n.severity)}:`), ` ${str(n.message)}`))),
    ];
  }

  // ---- timeline and tables
  function renderEvents(list) {
    const events = arr(list).slice().sort((a, b) => (Date.parse(b.at) || 0) - (Date.parse(a.at) || 0));
    if (!events.length) return [el("li", { class: "empty" }, "No events yet.")];
    return events.map((e) => el("li", { class: "event", data: { kind: e.kind, severity: e.severity || "info" } },
      time(e.at), el("span", { class: "badge kind" }, str(e.kind)), el("span", { class: "e-host", title: str(e.host) }, str(e.host)),
      el("span", { class: "e-vm", title: str(e.vm) }, str(e.vm)), el("span", { class: "msg" }, str(e.message))));
  }

  function table(headers, rows, empty) {
    return [
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { class: NUMERIC.has(h) ? "num" : undefined }, h)))),
      el("tbody", {}, rows.length ? rows : el("tr", { class: "empty" }, el("td", { colspan: headers.length }, empty))),
    ];
  }
  const td = (text, cls, title) => el("td", { class: cls, title }, text);
  const outcomeCell = (o, title) => el("td", { class: "outcome", title, data: { outcome: o } }, str(o));

  const renderFailovers = (list) => table(["VM", "From → to", "Epoch", "At", "Seconds"], arr(list).map((f) => el("tr", {},
    td(str(f.vm), "name", str(f.vm)), td(`${str(f.from)} → ${str(f.to)}`), td(str(f.epoch), "num"), td(time(f.at)), td(dec1(f.seconds), "num"))), "No failovers.");

  const renderMigrations = (list) => table(["VM", "From → to", "At", "Seconds", "Downtime ms", "Outcome"], arr(list).map((m) => el("tr", {},
    td(str(m.vm), "name", str(m.vm)), td(`${str(m.from)} → ${str(m.to)}`), td(time(m.at)), td(dec1(m.seconds), "num"),
    td(dec1(m.downtimeMilliseconds), "num"), outcomeCell(m.outcome))), "No migrations.");

  const renderPasses = (list) => table(["At", "Host", "Pass", "Trigger", "Outcome", "Reason", "Seconds", "Planned"], arr(list).map((p) => el("tr", {},
    td(time(p.startedAt)), td(str(p.host)), td(str(p.id), "num"), td(str(p.trigger)),
    outcomeCell(p.outcome, p.message), td(str(p.reason), "reason", [p.reason, p.message, p.commit && `commit ${p.commit}`].filter(Boolean).join("\n")),
    td(dec1(p.seconds), "num"), td(plannedText(p.planned) || "—", "planned"))), "No passes yet.");

  // ---- rendering, polling, token
  function section(id, data, build) {
    const key = JSON.stringify(data === undefined ? null : data);
    if (shown[id] === key) return;
    $(id).replaceChildren(...build(data).flat().filter(Boolean));
    shown[id] = key;   // only once built: a section whose build threw is tried again next time
  }

  function render(v) {
    const generated = date(v.generatedAt);
    if (generated) skew = generated.getTime() - Date.now();
    const scrollers = [...document.querySelectorAll("#hosts, #events, .scroll")].map((e) => [e, e.scrollTop, e.scrollLeft]);
    const [x, y] = [window.scrollX, window.scrollY];
    renderHeader(v);
    section("banners", v.banners, renderBanners);
    section("hosts", [v.hosts, v.vms], renderHosts);
    section("plan", v.plan, renderPlan);
    section("events", v.events, renderEvents);
    section("failovers", v.failovers, renderFailovers);
    section("migrations", v.migrations, renderMigrations);
    section("passes", v.passes, renderPasses);
    for (const [e, top, left] of scrollers) { e.scrollTop = top; e.scrollLeft = left; }
    window.scrollTo(x, y);
    document.body.dataset.generatedAt = str(v.generatedAt);
    if (!ready) {
      ready = true;
      $("status").hidden = true;
      document.body.dataset.state = "ready";
    }
  }

  // Int64 values beyond 2^53 (etcd lease ids) are kept as their exact digits.
  const parse = (text) => JSON.parse(text, (key, value, ctx) =>
    Number.isInteger(value) && !Number.isSafeInteger(value) && ctx && typeof ctx.source === "string" ? ctx.source : value);

  function token() {
    try { return (localStorage.getItem(TOKEN_KEY) || "").trim() || memoryToken; } catch (_) { return memoryToken; }
  }

  function setProblem(problem) {
    const conn = $("conn");
    conn.hidden = !problem;
    conn.title = problem || "";
    if (problem && !ready) {
      document.body.dataset.state = "error";
      $("status").textContent = `Cannot read ${API} (${problem}); retrying…`;
    }
  }

  function askToken(refused) {
    const form = $("token-form");
    $("token-label").textContent = refused ? "The bearer token was refused; enter another one." : "This virtsync API needs a bearer token.";
    setProblem(null);
    if (form.hidden) {
      form.hidden = false;
      $("token-input").focus({ preventScroll: true });
    }
    if (!ready) {
      document.body.dataset.state = "auth";
      $("status").textContent = "Waiting for a bearer token.";
    }
  }

  async function poll() {
    clearTimeout(next);
    inFlight = true;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    const bearer = token();
    try {
      const res = await fetch(API, { cache: "no-store", signal: abort.signal, headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} });
      if (res.status === 401) {
        askToken(bearer !== "");
      } else if (!res.ok) {
        setProblem(`HTTP ${res.status}`);
      } else {
        const view = parse(await res.text());
        $("token-form").hidden = true;
        try {
          render(view);
          setProblem(null);
        } catch (err) {
          console.error("virtsync dashboard: render failed", err);
          setProblem(`cannot show the response: ${err.message}`);
        }
      }
    } catch (err) {
      setProblem(err.name === "AbortError" ? "timed out" : err.message || String(err));
    } finally {
      clearTimeout(timer);
      inFlight = false;
      tick();
      next = setTimeout(poll, POLL_MS);
    }
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token-input").value.trim();
    if (!value) return;
    memoryToken = value;
    try { localStorage.setItem(TOKEN_KEY, value); } catch (_) { /* kept in memory only */ }
    $("token-input").value = "";
    $("token-form").hidden = true;
    if (!inFlight) poll();
  });

  poll();
})();
