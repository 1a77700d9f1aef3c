// bgpsentry dashboard: vanilla JavaScript over the Radar-compatible JSON API
// (/client/v4/radar/bgp/...) and the few /dashboard/api/... endpoints.
// Every piece of data is inserted with textContent (never innerHTML).
"use strict";

(function () {
  const TOKEN_KEY = "bgpsentry.token";
  const RADAR = "/client/v4/radar/bgp";
  const DASH = "/dashboard/api";
  const main = document.getElementById("main");
  const status = document.getElementById("status");
  let tagDocs = null;

  // ---------- small helpers ----------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }

  function announce(msg) {
    status.textContent = msg;
  }

  // Radar timestamps are UTC without a zone suffix.
  function fmtTs(ts) {
    if (!ts) return "—";
    return ts.replace("T", " ").replace(/\.\d+$/, "") + " UTC";
  }

  function fmtDuration(secs) {
    if (secs === null || secs === undefined) return "—";
    const d = Math.floor(secs / 86400), hh = Math.floor((secs % 86400) / 3600);
    const m = Math.floor((secs % 3600) / 60), sec = secs % 60;
    const parts = [];
    if (d) parts.push(d + " d");
    if (hh) parts.push(hh + " h");
    if (m) parts.push(m + " min");
    if (!d && !hh) parts.push(sec + " s");
    return parts.join(" ");
  }

  // Radar's buckets (docs page): 1-3 low, 4-7 medium, 8+ high.
  function confidenceLevel(score) {
    if (score >= 8) return "high";
    if (score >= 4) return "medium";
    return "low";
  }
  function confidenceBadge(score) {
    const lvl = confidenceLevel(score);
    const label = lvl.charAt(0).toUpperCase() + lvl.slice(1);
    return h("span", { class: "badge conf-" + lvl, "data-level": lvl }, label + " (" + score + ")");
  }
  function stateBadge(ev) {
    if (ev.finished) return h("span", { class: "badge state-finished" }, "Finished");
    if (ev.is_stale) return h("span", { class: "badge state-stale" }, "Ongoing (stale)");
    return h("span", { class: "badge state-ongoing" }, "Ongoing");
  }

  function asnMap(list) {
    const m = new Map();
    for (const a of list || []) m.set(a.asn, a);
    return m;
  }
  function asLabel(asn, info) {
    const i = info && info.get(asn);
    const bits = [];
    if (i && i.org_name) bits.push(i.org_name);
    if (i && i.country_code) bits.push(i.country_code);
    return bits.length ? "AS" + asn + " (" + bits.join(", ") + ")" : "AS" + asn;
  }

  const HIJACK_TYPES = { 0: "exact prefix (MOAS)", 1: "more-specific (sub-prefix)", 2: "forged origin (new adjacency)" };
  const LEAK_TYPES = {
    1: "type 1: provider → customer → provider (hairpin)",
    2: "type 2: peer → customer → peer (lateral)",
    3: "type 3: provider → customer → peer",
    4: "type 4: peer → customer → provider",
  };

  // ---------- API access ----------

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path) {
    const headers = { Accept: "application/json" };
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 30000);
    let resp;
    try {
      resp = await fetch(path, { headers, signal: ctl.signal, credentials: "same-origin" });
    } finally {
      clearTimeout(timer);
    }
    let body = null;
    try {
      body = await resp.json();
    } catch (_) {
      body = null;
    }
    if (!resp.ok || !body || body.success === false) {
      const msg = body && body.errors && body.errors.length ? body.errors.map((e) => e.message).join("; ") : "HTTP " + resp.status;
      if (resp.status === 401) openTokenDialog("The API needs a bearer token (" + msg + ").");
      throw new HttpError(resp.status, msg);
    }
    return body;
  }

  async function tagCatalogue() {
    if (!tagDocs) {
      const r = await fetch(DASH + "/tags", { headers: { Accept: "application/json" } });
      const list = r.ok ? await r.json() : [];
      tagDocs = new Map(list.map((t) => [t.name, t]));
    }
    return tagDocs;
  }

  // ---------- token dialog ----------

  const dialog = document.getElementById("token-dialog");
  const tokenInput = document.getElementById("token-input");
  let opener = null;
  function openTokenDialog(reason) {
    if (reason) document.getElementById("token-reason").textContent = reason + " It is kept in this browser's local storage only.";
    if (dialog.open) return;
    opener = document.activeElement;
    tokenInput.value = localStorage.getItem(TOKEN_KEY) || "";
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    tokenInput.focus();
  }
  function closeTokenDialog() {
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
    if (opener && opener.focus) opener.focus();
  }
  document.getElementById("token-button").addEventListener("click", () => openTokenDialog(null));
  document.getElementById("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = tokenInput.value.trim();
    if (v) localStorage.setItem(TOKEN_KEY, v);
    else localStorage.removeItem(TOKEN_KEY);
    closeTokenDialog();
    route();
  });
  document.getElementById("token-clear").addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    tokenInput.value = "";
    closeTokenDialog();
    route();
  });
  document.getElementById("token-cancel").addEventListener("click", closeTokenDialog);

  // ---------- routing ----------

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, "");
    const [path, query] = raw.split("?");
    return { parts: path.split("/").filter(Boolean), params: new URLSearchParams(query || "") };
  }

  function setPage(title, navId, ...content) {
    main.replaceChildren(...content.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
    document.title = title + " · bgpsentry";
    for (const a of document.querySelectorAll(".top nav a")) {
      if (a.id === navId) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  }

  function focusHeading() {
    const h1 = main.querySelector("h1");
    if (h1) {
      h1.setAttribute("tabindex", "-1");
      h1.focus({ preventScroll: false });
    }
  }

  let routeSeq = 0;
  async function route(focus) {
    const seq = ++routeSeq;
    const { parts, params } = parseHash();
    const kind = parts[0] || "overview";
    try {
      if ((kind === "hijacks" || kind === "leaks") && parts[1]) await eventPage(kind, parts[1], seq);
      else if (kind === "hijacks" || kind === "leaks") await listPage(kind, params, seq);
      else await overviewPage(seq);
    } catch (err) {
      if (seq !== routeSeq) return;
      setPage("Error", null, h("h1", {}, "Could not load this page"), h("p", { class: "error", role: "alert" }, err.message || String(err)));
    }
    if (focus && seq === routeSeq) focusHeading();
  }
  window.addEventListener("hashchange", () => route(true));

  // ---------- list pages ----------

  const LIST_FIELDS = {
    hijacks: [
      { name: "involvedAsn", label: "Involved ASN", hint: "hijacker or victim", type: "text", inputmode: "numeric" },
      { name: "hijackerAsn", label: "Hijacker ASN", type: "text", inputmode: "numeric" },
      { name: "victimAsn", label: "Victim ASN", type: "text", inputmode: "numeric" },
      { name: "prefix", label: "Prefix", hint: "e.g. 208.65.152.0/22", type: "text" },
      { name: "prefixMatch", label: "Prefix match", type: "select", options: [["", "exact"], ["covering", "covering (less specific)"], ["more-specific", "more specific"], ["any", "either"]] },
      { name: "involvedCountry", label: "Country", hint: "two letters", type: "text" },
      { name: "confidence", label: "Confidence", type: "select", options: [["", "any"], ["high", "high (8+)"], ["medium", "medium (4–7)"], ["low", "low (≤3)"]] },
      { name: "dateStart", label: "Started from", type: "date" },
      { name: "dateEnd", label: "Started until", type: "date" },
      { name: "state", label: "State", type: "select", options: [["", "all"], ["ongoing", "ongoing"], ["finished", "finished"]] },
      { name: "per_page", label: "Per page", type: "select", options: [["25", "25"], ["50", "50"], ["100", "100"]] },
    ],
    leaks: [
      { name: "involvedAsn", label: "Involved ASN", hint: "in the segment or an origin", type: "text", inputmode: "numeric" },
      { name: "leakAsn", label: "Leaker ASN", type: "text", inputmode: "numeric" },
      { name: "involvedCountry", label: "Country", hint: "two letters", type: "text" },
      { name: "dateStart", label: "Started from", type: "date" },
      { name: "dateEnd", label: "Started until", type: "date" },
      { name: "state", label: "State", type: "select", options: [["", "all"], ["ongoing", "ongoing"], ["finished", "finished"]] },
      { name: "per_page", label: "Per page", type: "select", options: [["25", "25"], ["50", "50"], ["100", "100"]] },
    ],
  };

  const COLUMNS = {
    hijacks: [
      { label: "ID", sort: "ID", num: true },
      { label: "Started", sort: "TIME" },
      { label: "Hijacker" },
      { label: "Victims" },
      { label: "Prefixes" },
      { label: "Confidence", sort: "CONFIDENCE" },
      { label: "State" },
      { label: "Peers", num: true },
      { label: "Duration" },
    ],
    leaks: [
      { label: "ID", sort: "ID", num: true },
      { label: "Started", sort: "TIME" },
      { label: "Leaker" },
      { label: "Segment (from, by, to)" },
      { label: "Type" },
      { label: "Leaks", sort: "LEAKS", num: true },
      { label: "Peers", sort: "PEERS", num: true },
      { label: "Prefixes", sort: "PREFIXES", num: true },
      { label: "Origins", sort: "ORIGINS", num: true },
      { label: "State" },
    ],
  };

  // Dashboard parameters -> API query string.
  function apiQuery(kind, params) {
    const q = new URLSearchParams();
    for (const f of LIST_FIELDS[kind]) {
      const v = (params.get(f.name) || "").trim();
      if (!v || f.name === "confidence" || f.name === "state") continue;
      if (f.name === "prefixMatch" && !params.get("prefix")) continue;
      q.set(f.name, v);
    }
    if (!q.has("per_page")) q.set("per_page", "25");
    const conf = params.get("confidence");
    if (kind === "hijacks" && conf === "high") q.set("minConfidence", "8");
    if (kind === "hijacks" && conf === "medium") { q.set("minConfidence", "4"); q.set("maxConfidence", "7"); }
    if (kind === "hijacks" && conf === "low") q.set("maxConfidence", "3");
    q.set("page", params.get("page") || "1");
    q.set("sortBy", params.get("sortBy") || "ID");
    q.set("sortOrder", params.get("sortOrder") || "DESC");
    const state = params.get("state");
    if (state === "ongoing" || state === "finished") q.set("state", state);
    // Radar has no state filter: the dashboard's own endpoint adds it.
    const base = q.has("state") ? DASH + "/" + kind + "/events" : RADAR + "/" + kind + "/events";
    return base + "?" + q.toString();
  }

  function withParams(kind, params, changes) {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === "") p.delete(k);
      else p.set(k, v);
    }
    return "#/" + kind + (p.toString() ? "?" + p.toString() : "");
  }

  function filterForm(kind, params) {
    const fields = LIST_FIELDS[kind].map((f) => {
      const id = "f-" + f.name;
      let input;
      if (f.type === "select") {
        input = h("select", { id, name: f.name },
          f.options.map(([v, label]) => h("option", { value: v, selected: (params.get(f.name) || (f.name === "per_page" ? "25" : "")) === v }, label)));
      } else {
        input = h("input", { id, name: f.name, type: f.type, inputmode: f.inputmode, value: params.get(f.name) || "", autocomplete: "off", "aria-describedby": f.hint ? id + "-hint" : null });
      }
      return h("div", { class: "field" },
        h("label", { for: id }, f.label), input,
        f.hint ? h("span", { class: "hint", id: id + "-hint" }, f.hint) : null);
    });
    const form = h("form", { class: "filters", id: "filters", role: "search", "aria-label": "Filter " + kind },
      h("fieldset", {}, h("legend", { class: "visually-hidden" }, "Filters"), fields),
      h("div", { class: "actions" },
        h("button", { type: "submit", id: "apply" }, "Apply filters"),
        h("button", { type: "button", class: "secondary", id: "reset", onclick: () => { location.hash = "#/" + kind; } }, "Reset")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const p = new URLSearchParams();
      for (const el of form.elements) {
        if (!el.name) continue;
        const v = el.value.trim();
        if (v && !(el.name === "per_page" && v === "25")) p.set(el.name, v);
      }
      if (params.get("sortBy")) p.set("sortBy", params.get("sortBy"));
      if (params.get("sortOrder")) p.set("sortOrder", params.get("sortOrder"));
      location.hash = "#/" + kind + (p.toString() ? "?" + p.toString() : "");
    });
    return form;
  }

  function headerRow(kind, params) {
    const sortBy = params.get("sortBy") || "ID";
    const order = params.get("sortOrder") || "DESC";
    return h("tr", {}, COLUMNS[kind].map((c) => {
      if (!c.sort) return h("th", { scope: "col", class: c.num ? "num" : null }, c.label);
      const active = c.sort === sortBy;
      const next = active && order === "DESC" ? "ASC" : "DESC";
      return h("th", { scope: "col", class: c.num ? "num" : null, "aria-sort": active ? (order === "ASC" ? "ascending" : "descending") : "none" },
        h("button", {
          type: "button", class: "linklike", "data-sort": c.sort,
          "aria-label": "Sort by " + c.label + (next === "ASC" ? ", ascending" : ", descending"),
          onclick: () => { location.hash = withParams(kind, params, { sortBy: c.sort, sortOrder: next, page: null }); },
        }, c.label));
    }));
  }

  function eventLink(kind, ev, text) {
    return h("a", { href: "#/" + kind + "/" + ev.id, "data-event-id": ev.id }, text);
  }

  function hijackRow(ev, info) {
    const prefixes = ev.prefixes || [];
    return h("tr", {},
      h("td", { class: "num" }, eventLink("hijacks", ev, String(ev.id))),
      h("td", {}, fmtTs(ev.min_hijack_ts)),
      h("td", {}, asLabel(ev.hijacker_asn, info)),
      h("td", {}, (ev.victim_asns || []).map((a) => asLabel(a, info)).join(", ")),
      h("td", {}, eventLink("hijacks", ev, prefixes.slice(0, 3).join(", ") + (prefixes.length > 3 ? " +" + (prefixes.length - 3) + " more" : ""))),
      h("td", {}, confidenceBadge(ev.confidence_score)),
      h("td", {}, stateBadge(ev)),
      h("td", { class: "num" }, String(ev.peer_ip_count)),
      h("td", {}, ev.finished || ev.duration ? fmtDuration(ev.duration) : "—"));
  }

  function leakRow(ev, info) {
    return h("tr", {},
      h("td", { class: "num" }, eventLink("leaks", ev, String(ev.id))),
      h("td", {}, fmtTs(ev.min_ts)),
      h("td", {}, eventLink("leaks", ev, asLabel(ev.leak_asn, info))),
      h("td", { class: "mono" }, (ev.leak_seg || []).map((a) => "AS" + a).join(" → ")),
      h("td", {}, String(ev.leak_type)),
      h("td", { class: "num" }, String(ev.leak_count)),
      h("td", { class: "num" }, String(ev.peer_count)),
      h("td", { class: "num" }, String(ev.prefix_count)),
      h("td", { class: "num" }, String(ev.origin_count)),
      h("td", {}, stateBadge(ev)));
  }

  async function listPage(kind, params, seq) {
    const title = kind === "hijacks" ? "Hijack events" : "Route-leak events";
    const form = filterForm(kind, params);
    const results = h("div", { id: "results", "aria-busy": "true" }, h("p", {}, "Loading…"));
    setPage(title, "nav-" + kind, h("h1", {}, title), form, results);
    const query = apiQuery(kind, params);
    let body;
    try {
      body = await api(query);
    } catch (err) {
      if (seq !== routeSeq) return;
      results.replaceChildren(h("p", { class: "error", role: "alert", id: "list-error" }, err.message));
      results.setAttribute("aria-busy", "false");
      return;
    }
    if (seq !== routeSeq) return;
    const r = body.result, ri = body.result_info;
    const info = asnMap(r.asn_info);
    const rows = r.events.map((ev) => (kind === "hijacks" ? hijackRow(ev, info) : leakRow(ev, info)));
    const pages = Math.max(1, Math.ceil(ri.total_count / ri.per_page));
    const summary = ri.total_count + " event" + (ri.total_count === 1 ? "" : "s") + ", page " + ri.page + " of " + pages;
    const table = h("div", { class: "table-wrap" },
      h("table", { id: "events" },
        h("caption", {}, title + ": " + summary),
        h("thead", {}, headerRow(kind, params)),
        h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: COLUMNS[kind].length }, "No events match these filters.")))));
    const pager = h("nav", { class: "pager", "aria-label": "Pages" },
      h("button", { type: "button", class: "secondary", id: "prev", disabled: ri.page <= 1, onclick: () => { location.hash = withParams(kind, params, { page: String(ri.page - 1) }); } }, "Previous page"),
      h("span", { id: "page-info" }, summary),
      h("button", { type: "button", class: "secondary", id: "next", disabled: ri.page >= pages, onclick: () => { location.hash = withParams(kind, params, { page: String(ri.page + 1) }); } }, "Next page"));
    results.replaceChildren(table, pager);
    results.setAttribute("data-query", query);
    results.setAttribute("aria-busy", "false");
    announce(summary);
  }

  // ---------- event pages ----------

  function fieldList(pairs) {
    return h("dl", { class: "fields" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  }

  function asTable(caption, rows, info) {
    return h("div", { class: "table-wrap" }, h("table", { id: "origins" },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Role"), h("th", { scope: "col" }, "ASN"), h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Country"))),
      h("tbody", {}, rows.map(([role, asn]) => {
        const i = info.get(asn) || {};
        return h("tr", {}, h("td", {}, role), h("td", { class: "mono" }, "AS" + asn), h("td", {}, i.org_name || "unknown"), h("td", {}, i.country_code || "—"));
      }))));
  }

  function tagsTable(tags, score, docs) {
    const rows = (tags || []).map((t) => {
      const d = docs.get(t.name);
      return h("tr", {},
        h("th", { scope: "row", class: "mono" }, t.name),
        h("td", { class: "num " + (t.score > 0 ? "score-pos" : t.score < 0 ? "score-neg" : "") }, (t.score > 0 ? "+" : "") + t.score),
        h("td", {}, d ? d.meaning : "(not documented)"),
        h("td", { class: "catalogue" }, d ? (d.source === "radar" ? "Radar" : "bgpsentry") : "—"));
    });
    return h("div", { class: "table-wrap" }, h("table", { id: "tags" },
      h("caption", {}, "Evidence tags: the confidence score is their sum (positive: more likely a hijack)"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Tag"), h("th", { scope: "col", class: "num" }, "Score"), h("th", { scope: "col" }, "Meaning"), h("th", { scope: "col", class: "catalogue" }, "Catalogue"))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 4 }, "No tags."))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Confidence"), h("td", { class: "num" }, String(score)), h("td", { colspan: 2 }, confidenceBadge(score))))));
  }

  // AS path with the bad AS marked (<mark>) and the victims/others tinted.
  function pathView(asPath, bad, good) {
    const tokens = asPath.split(/\s+/).filter(Boolean);
    return h("span", { class: "path" }, tokens.map((tok) => {
      const n = Number(tok.replace(/[{}]/g, ""));
      if (n === bad) return h("mark", { class: "as", title: "AS" + n + " (highlighted)" }, tok);
      if (good.includes(n)) return h("span", { class: "as victim" }, tok);
      return h("span", { class: "as" }, tok);
    }));
  }

  function samplesTable(samples, bad, good, badRole, goodRole) {
    if (!samples || !samples.length) return h("p", {}, "No sample paths stored.");
    return [
      h("p", { class: "legend" }, "Highlighted: ", h("mark", {}, badRole), good.length ? [" · tinted: ", h("span", { class: "victim" }, goodRole)] : null, ". Paths read left (collector peer) to right (origin)."),
      h("div", { class: "table-wrap" }, h("table", { id: "paths" },
        h("caption", {}, "Sample AS paths (one per collector peer)"),
        h("thead", {}, h("tr", {}, ["Collector", "Peer", "Prefix", "Seen", "AS path"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, samples.map((p) => h("tr", {},
          h("td", {}, p.collector),
          h("td", { class: "mono" }, "AS" + p.peer_asn + " " + p.peer_ip),
          h("td", { class: "mono" }, p.prefix),
          h("td", {}, fmtTs(p.ts)),
          h("td", {}, pathView(p.as_path, bad, good))))))),
    ];
  }

  function timelineChart(tl, noun) {
    const b = tl.buckets || [];
    if (!b.length) return h("p", {}, "No history stored for this event.");
    const hasAnn = b.some((x) => x.announcements !== undefined);
    const barOf = (x) => (hasAnn ? x.announcements || 0 : x.changes);
    const per = tl.bucket_secs === 60 ? "minute" : tl.bucket_secs / 60 + " minutes";
    const barLabel = hasAnn ? noun + " announcements reported per " + per : "changes reported per " + per;
    const W = 720, H = 200, L = 40, R = 40, T = 10, B = 30;
    const maxC = Math.max(1, ...b.map(barOf));
    const maxP = Math.max(1, ...b.map((x) => x.peers));
    const bw = (W - L - R) / b.length;
    const y = (v, max) => T + (H - T - B) * (1 - v / max);
    const svg = s("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "tl-title tl-desc", id: "timeline-chart" });
    svg.append(s("title", { id: "tl-title" }, "Event timeline"));
    svg.append(s("desc", { id: "tl-desc" }, "Bars: " + barLabel + ", up to " + maxC + ". Line: collector peers that had carried the event, up to " + maxP + "."));
    b.forEach((x, i) => {
      const v = barOf(x);
      if (!v && !x.ended) return;
      const y0 = x.ended && !v ? T : y(v, maxC);
      svg.append(s("rect", { x: L + i * bw, y: y0, width: Math.max(1, bw - 1), height: H - B - y0, fill: x.ended && !v ? "#6b7280" : "#b83232" }));
    });
    const pts = b.map((x, i) => (L + (i + 0.5) * bw).toFixed(1) + "," + y(x.peers, maxP).toFixed(1)).join(" ");
    svg.append(s("polyline", { points: pts, fill: "none", stroke: "#2d6cb5", "stroke-width": 2 }));
    svg.append(s("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#7b8794" }));
    svg.append(s("text", { x: L, y: H - 8, class: "axis" }, fmtTs(b[0].ts)));
    svg.append(s("text", { x: W - R, y: H - 8, class: "axis", "text-anchor": "end" }, fmtTs(b[b.length - 1].ts)));
    svg.append(s("text", { x: L - 4, y: T + 10, class: "axis", "text-anchor": "end" }, String(maxC)));
    svg.append(s("text", { x: W - R + 4, y: T + 10, class: "axis" }, String(maxP)));
    const busy = b.filter((x) => x.changes || x.ended);
    const dash = (v) => (v === undefined || v === null ? "—" : String(v));
    return [
      h("p", { class: "legend" }, "Red bars: " + barLabel + " (left axis; counted between the detector's reports, which come at least every few minutes while it changes; a grey bar marks the end). Blue line: collector peers that had carried it (right axis)."),
      h("div", { class: "chart" }, svg),
      h("details", {}, h("summary", {}, "Timeline as a table (" + busy.length + " " + (tl.bucket_secs === 60 ? "minutes" : "buckets") + " with changes)"),
        h("div", { class: "table-wrap" }, h("table", { id: "timeline-table" },
          h("thead", {}, h("tr", {}, ["Minute (UTC)", "Changes", "Announcements", "Peers", "Prefixes", "Still carried", "Confidence", "Ended"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, busy.map((x) => h("tr", {},
            h("td", {}, fmtTs(x.ts)), h("td", { class: "num" }, String(x.changes)), h("td", { class: "num" }, dash(x.announcements)),
            h("td", { class: "num" }, String(x.peers)), h("td", { class: "num" }, String(x.prefixes)), h("td", { class: "num" }, dash(x.ongoing)),
            h("td", { class: "num" }, dash(x.confidence)), h("td", {}, x.ended ? "yes" : ""))))))),
    ];
  }

  function historyTable(changes) {
    return h("details", {}, h("summary", {}, "Change history (" + changes.length + ")"),
      h("div", { class: "table-wrap" }, h("table", { id: "history" },
        h("thead", {}, h("tr", {}, ["Time", "Change", "Confidence", "Prefixes", "Peers", "Finished"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, changes.map((c) => h("tr", {},
          h("td", {}, fmtTs(c.ts)), h("td", {}, c.change.replace("_", " ")),
          h("td", { class: "num" }, c.confidence_score === undefined ? "—" : String(c.confidence_score)),
          h("td", { class: "num" }, String(c.prefix_count)), h("td", { class: "num" }, String(c.peer_count)), h("td", {}, c.finished ? "yes" : "")))))));
  }

  async function eventPage(kind, idText, seq) {
    if (!/^\d+$/.test(idText)) throw new Error("Not an event id: " + idText);
    const [detail, tl, docs] = await Promise.all([
      api(RADAR + "/" + kind + "/events/" + idText),
      api(DASH + "/" + kind + "/events/" + idText + "/timeline").catch((e) => ({ error: e.message })),
      tagCatalogue().catch(() => new Map()),
    ]);
    if (seq !== routeSeq) return;
    const ev = detail.result.event;
    const info = asnMap(detail.result.asn_info);
    const back = h("p", {}, h("a", { href: "#/" + kind }, "← All " + (kind === "hijacks" ? "hijacks" : "route leaks")));
    const timeline = tl.error ? h("p", { class: "error" }, tl.error) : timelineChart(tl.result, kind === "hijacks" ? "hijack" : "leak");
    const raw = h("details", {}, h("summary", {}, "All fields (JSON)"), h("pre", { class: "json", tabindex: "0" }, JSON.stringify(ev, null, 2)));
    if (kind === "hijacks") {
      const victims = ev.victim_asns || [];
      const title = "Hijack " + ev.id + ": " + asLabel(ev.hijacker_asn, info);
      setPage(title, "nav-hijacks", back,
        h("h1", { id: "event-title" }, title),
        fieldList([
          ["Confidence", confidenceBadge(ev.confidence_score)],
          ["State", stateBadge(ev)],
          ["Hijacker (detected origin)", h("span", { id: "hijacker" }, asLabel(ev.hijacker_asn, info))],
          ["Victims (expected origins)", victims.map((a) => asLabel(a, info)).join(", ") || "—"],
          ["Prefixes", h("span", { class: "mono", id: "prefixes" }, (ev.prefixes || []).join(", "))],
          ["Type", HIJACK_TYPES[ev.event_type] || String(ev.event_type)],
          ["First hijack announcement", fmtTs(ev.min_hijack_ts)],
          ["Last hijack announcement", fmtTs(ev.max_hijack_ts)],
          ["Last message", fmtTs(ev.max_msg_ts)],
          ev.ended_ts ? ["Ended", fmtTs(ev.ended_ts)] : null,
          ["Duration", fmtDuration(ev.duration)],
          ["Hijack announcements", String(ev.hijack_msgs_count)],
          ["Prefixes still hijacked", String(ev.on_going_count)],
          ["Collector peers", ev.peer_ip_count + " addresses in " + (ev.peer_asns || []).length + " ASes"],
          ["Hijacker country", ev.hijacker_country || "—"],
          ["Victim countries", (ev.victim_countries || []).join(", ") || "—"],
        ]),
        h("h2", {}, "Origins"),
        asTable("Origin ASes (names and countries from as2org)", [["Hijacker", ev.hijacker_asn], ...victims.map((v) => ["Victim", v])], info),
        h("h2", {}, "Tags"),
        tagsTable(ev.tags, ev.confidence_score, docs),
        h("h2", {}, "Timeline"),
        timeline,
        h("h2", {}, "Sample AS paths"),
        samplesTable(ev.sample_paths, ev.hijacker_asn, victims, "hijacker AS" + ev.hijacker_asn, "victims"),
        h("h2", {}, "Collector peer ASes"),
        h("p", { class: "mono" }, (ev.peer_asns || []).map((a) => "AS" + a).join(" ") || "—"),
        h("h2", {}, "History"),
        historyTable(detail.result.changes || []),
        raw);
    } else {
      const seg = ev.leak_seg || [];
      const title = "Route leak " + ev.id + ": " + asLabel(ev.leak_asn, info);
      setPage(title, "nav-leaks", back,
        h("h1", { id: "event-title" }, title),
        fieldList([
          ["State", stateBadge(ev)],
          ["Leaker", h("span", { id: "leaker" }, asLabel(ev.leak_asn, info))],
          ["Segment (from → by → to)", seg.map((a) => asLabel(a, info)).join(" → ")],
          ["Type", LEAK_TYPES[ev.leak_type] || String(ev.leak_type)],
          ["Detected", fmtTs(ev.detected_ts)],
          ["First leak announcement", fmtTs(ev.min_ts)],
          ["Last leak announcement", fmtTs(ev.max_ts)],
          ev.ended_ts ? ["Ended", fmtTs(ev.ended_ts)] : null,
          ["Leak announcements", String(ev.leak_count)],
          ["Collector peers", String(ev.peer_count)],
          ["Prefixes", String(ev.prefix_count)],
          ["Origins", String(ev.origin_count)],
          ["Countries", (ev.countries || []).join(", ") || "—"],
        ]),
        h("h2", {}, "Segment ASes"),
        asTable("ASes of the leak segment (names and countries from as2org)", seg.map((a, i) => [["From", "By (leaker)", "To"][i] || "AS", a]), info),
        h("h2", {}, "Timeline"),
        timeline,
        h("h2", {}, "Sample AS paths"),
        samplesTable(ev.sample_paths, ev.leak_asn, seg.filter((a) => a !== ev.leak_asn), "leaker AS" + ev.leak_asn, "rest of the segment"),
        h("h2", {}, "Leaked prefixes (sample)"),
        h("p", { class: "mono" }, (ev.prefixes || []).join(" ") || "—"),
        h("h2", {}, "Origins of leaked prefixes (sample)"),
        h("p", { class: "mono" }, (ev.origins || []).map((a) => "AS" + a).join(" ") || "—"),
        h("h2", {}, "History"),
        historyTable(detail.result.changes || []),
        raw);
    }
    announce(document.title);
  }

  // ---------- overview ----------

  function perDayChart(days) {
    if (!days.length) return h("p", {}, "No events stored yet.");
    const W = 720, H = 180, L = 36, B = 28, T = 10;
    const max = Math.max(1, ...days.map((d) => d.hijacks + d.leaks));
    const bw = (W - L - 8) / days.length;
    const svg = s("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "pd-title", id: "per-day-chart" });
    svg.append(s("title", { id: "pd-title" }, "Events per day: hijacks (red) and leaks (blue), up to " + max + " per day"));
    days.forEach((d, i) => {
      const hh = (H - T - B) * d.hijacks / max, lh = (H - T - B) * d.leaks / max;
      svg.append(s("rect", { x: L + i * bw, y: H - B - hh, width: Math.max(1, bw - 2), height: hh, fill: "#b83232" }));
      svg.append(s("rect", { x: L + i * bw, y: H - B - hh - lh, width: Math.max(1, bw - 2), height: lh, fill: "#2d6cb5" }));
    });
    svg.append(s("line", { x1: L, y1: H - B, x2: W - 8, y2: H - B, stroke: "#7b8794" }));
    svg.append(s("text", { x: L, y: H - 8, class: "axis" }, days[0].day));
    svg.append(s("text", { x: W - 8, y: H - 8, class: "axis", "text-anchor": "end" }, days[days.length - 1].day));
    svg.append(s("text", { x: L - 4, y: T + 10, class: "axis", "text-anchor": "end" }, String(max)));
    return [
      h("div", { class: "chart" }, svg),
      h("details", {}, h("summary", {}, "Events per day as a table"),
        h("div", { class: "table-wrap" }, h("table", { id: "per-day" },
          h("thead", {}, h("tr", {}, ["Day (UTC)", "Hijacks", "Leaks"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, days.filter((d) => d.hijacks || d.leaks).map((d) => h("tr", {}, h("td", {}, d.day), h("td", { class: "num" }, String(d.hijacks)), h("td", { class: "num" }, String(d.leaks))))))))];
  }

  function topTable(id, caption, rows, kind, param) {
    return h("div", { class: "table-wrap" }, h("table", { id },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ["AS", "Name", "Country", "Events", "Ongoing"].map((c, i) => h("th", { scope: "col", class: i >= 3 ? "num" : null }, c)))),
      h("tbody", {}, rows.length ? rows.map((r) => h("tr", {},
        h("td", {}, h("a", { href: "#/" + kind + "?" + param + "=" + r.asn }, "AS" + r.asn)),
        h("td", {}, r.org_name || "unknown"), h("td", {}, r.country_code || "—"),
        h("td", { class: "num" }, String(r.events)), h("td", { class: "num" }, String(r.ongoing)))) : h("tr", {}, h("td", { colspan: 5 }, "None.")))));
  }

  function sourcesTable(sources) {
    if (!sources.length) {
      return h("p", { id: "feeds-none" }, "No live sources in this process (this is the API over a store, e.g. ",
        h("code", {}, "bgpsentry serve"), "). ", h("code", {}, "bgpsentry run"), " lists its feeds here and on ", h("a", { href: "/metrics" }, "/metrics"), ".");
    }
    return h("div", { class: "table-wrap" }, h("table", { id: "feeds" },
      h("caption", {}, "Live sources"),
      h("thead", {}, h("tr", {}, ["Source", "Type", "Status", "Messages", "Peers up", "Last message", "Silent for", "Errors"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, sources.map((x) => h("tr", {},
        h("td", {}, x.name), h("td", {}, x.type),
        h("td", {}, h("span", { class: "badge " + (x.blind ? "state-ongoing" : "conf-low") }, x.blind ? "blind" : "ok")),
        h("td", { class: "num" }, String(x.messages)), h("td", { class: "num" }, String(x.peers_up)),
        h("td", {}, fmtTs(x.last_message_ts)), h("td", {}, fmtDuration(x.silent_secs)), h("td", { class: "num" }, String(x.errors)))))));
  }

  async function overviewPage(seq) {
    setPage("Overview", "nav-overview", h("h1", {}, "Overview"), h("p", { "aria-busy": "true" }, "Loading…"));
    const body = await api(DASH + "/overview?days=30");
    if (seq !== routeSeq) return;
    const o = body.result;
    const card = (id, label, big, sub) => h("div", { class: "card", id }, h("div", { class: "sub" }, label), h("div", { class: "big" }, big), sub ? h("div", { class: "sub" }, sub) : null);
    setPage("Overview", "nav-overview",
      h("h1", {}, "Overview"),
      h("section", { "aria-label": "Totals", class: "cards" },
        card("card-hijacks", "Hijack events", h("a", { href: "#/hijacks" }, String(o.hijacks)), h("a", { href: "#/hijacks?state=ongoing" }, o.hijacks_ongoing + " ongoing now")),
        card("card-leaks", "Route-leak events", h("a", { href: "#/leaks" }, String(o.leaks)), h("a", { href: "#/leaks?state=ongoing" }, o.leaks_ongoing + " ongoing now")),
        card("card-monitors", "Collector peers", String(o.total_monitors), "total_monitors"),
        card("card-latest", "Latest event start", h("span", { class: "mid" }, o.latest_event_ts ? fmtTs(o.latest_event_ts) : "—"), null)),
      h("h2", {}, "Events per day (last 30 days with data)"),
      perDayChart(o.per_day || []),
      h("div", { class: "grid2" },
        h("section", {}, h("h2", {}, "Top hijackers"), topTable("top-hijackers", "ASes with the most hijack events in these days", o.top_hijackers || [], "hijacks", "hijackerAsn")),
        h("section", {}, h("h2", {}, "Top leakers"), topTable("top-leakers", "ASes with the most route-leak events in these days", o.top_leakers || [], "leaks", "leakAsn"))),
      h("h2", {}, "Feed health"),
      sourcesTable(o.sources || []));
    announce("Overview loaded");
  }

  route(false);
})();
