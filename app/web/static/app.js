// Burnwatch status page: polls /api/v1 every few seconds and draws the SLO
// list, one SLO's page (#/slo/NAME), the active alerts and the flows. Plain
// DOM and SVG, no dependencies; every value is set as text, never as HTML.
"use strict";

const POLL_MS = 5000;
const SVG = "http://www.w3.org/2000/svg";

// h builds an element: h("td", {class: "num"}, "text", child...).
function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// s builds an SVG element.
function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function $(id) { return document.getElementById(id); }

function replace(el, ...children) { el.replaceChildren(...children.flat().filter((c) => c != null)); }

// Formatting.

function pct(x) {
  const v = x * 100;
  const digits = Math.abs(v) >= 100 ? 0 : 1;
  return (v < 0 ? "−" : "") + Math.abs(v).toFixed(digits) + "%";
}

function target(x) {
  return (Math.round(x * 100 * 1e4) / 1e4) + "%";
}

function burn(b) {
  if (b >= 1e6) return "≫1000×";
  const digits = b >= 100 ? 0 : b >= 10 ? 1 : 2;
  return b.toFixed(digits) + "×";
}

function factor(f) { return (Math.round(f * 100) / 100) + "×"; }

function latency(sec) {
  if (!sec) return "–";
  if (sec < 0.001) return (sec * 1e6).toFixed(0) + " µs";
  if (sec < 1) return (sec * 1000).toFixed(sec < 0.01 ? 2 : 1) + " ms";
  return sec.toFixed(2) + " s";
}

// dur renders seconds with its two largest units: "2h 30m", "45s".
function dur(sec) {
  sec = Math.max(0, Math.round(sec));
  if (sec === 0) return "0s";
  const units = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];
  const parts = [];
  for (const [name, size] of units) {
    if (parts.length === 2) break;
    const n = Math.floor(sec / size);
    sec -= n * size;
    if (n > 0) parts.push(n + name);
    else if (parts.length > 0) break;
  }
  return parts.join(" ");
}

function ago(iso) {
  if (!iso) return "never";
  const sec = (Date.now() - Date.parse(iso)) / 1000;
  return sec < 1 ? "just now" : dur(sec) + " ago";
}

function count(n) { return Number(n).toLocaleString("en-US"); }

// level grades a budget left: ok, low (under a quarter) or out (spent).
function level(b) { return b <= 0 ? "out" : b < 0.25 ? "low" : "ok"; }

const STATE_TEXT = { firing: "Burning", ok: "OK", warming_up: "Warming up", no_data: "No data", not_enough_events: "Too few events" };

function stateBadge(state, severity) {
  const text = STATE_TEXT[state] || state;
  const sev = state === "firing" && severity ? severity : "";
  return h("span", { class: `state s-${state}${sev ? " sev-" + sev : ""}` }, sev ? `${text} · ${sev}` : text);
}

// meter is a budget bar: filled by the budget left, coloured by its level,
// read by assistive technology as a meter.
function meter(budget) {
  const bar = h("div", { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100 }, h("span"));
  setMeter(bar, budget);
  return bar;
}

function setMeter(bar, budget) {
  const fill = Math.max(0, Math.min(1, budget));
  bar.classList.remove("lvl-ok", "lvl-low", "lvl-out");
  bar.classList.add("lvl-" + level(budget));
  bar.setAttribute("aria-valuenow", Math.round(fill * 100));
  bar.setAttribute("aria-label", `Error budget left: ${pct(budget)}`);
  bar.querySelector("span").style.width = (fill * 100).toFixed(1) + "%";
}

// API.

async function get(path) {
  const resp = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!resp.ok) {
    let msg = resp.statusText;
    try { msg = await resp.json(); } catch (_) { /* not JSON */ }
    const err = new Error(`${path}: ${resp.status} ${msg}`);
    err.status = resp.status;
    throw err;
  }
  return resp.json();
}

// view is what is shown: the flows' order, the SLO of the SLO page (null
// for the overview) and its last answer, to redraw the charts on a resize.
const view = { sort: "traffic", slo: null, detail: null };

function route() {
  const m = location.hash.match(/^#\/slo\/(.+)$/);
  view.slo = m ? decodeURIComponent(m[1]) : null;
  $("overview").hidden = view.slo !== null;
  $("detail").hidden = view.slo === null;
  document.title = view.slo ? `${view.slo} · Burnwatch` : "Burnwatch · SLOs";
}

function sloLink(name) {
  return h("a", { href: "#/slo/" + encodeURIComponent(name) }, name);
}

// The overview.

function renderDaemon(st) {
  const parts = [`Burnwatch ${st.version}`, `storage ${st.storage.replace("_", " ")}`,
    `evaluated ${ago(st.evaluated_at)}`, `up ${dur(st.uptime_seconds)}`];
  $("daemon").textContent = parts.join(" · ");
  $("daemon").classList.toggle("warn", st.storage === "memory_only");
  $("n-flows").textContent = count(st.counts.flows);
}

function renderBanner(problems) {
  const b = $("banner");
  b.hidden = problems.length === 0;
  replace(b, problems.map((p) => h("div", {}, p)));
}

const SEVERITY_RANK = { page: 0, ticket: 1 };

function sloOrder(a, b) {
  const ra = a.state === "firing" ? SEVERITY_RANK[a.severity] ?? 2 : 3;
  const rb = b.state === "firing" ? SEVERITY_RANK[b.severity] ?? 2 : 3;
  return ra - rb;
}

function renderSLOs(list) {
  const slos = [...list.slos].sort(sloOrder);
  const burning = slos.filter((x) => x.state === "firing").length;
  $("n-slos").textContent = slos.length;
  $("n-burning").textContent = burning;
  $("tile-burning").classList.toggle("alarm", burning > 0);
  if (slos.length === 0) {
    replace($("slo-rows"), h("tr", {}, h("td", { colspan: 5, class: "empty" }, "No SLOs are defined.")));
    return;
  }
  replace($("slo-rows"), slos.map((x) => {
    const sev = x.state === "firing" ? x.severity : "";
    const bar = meter(x.budget_left);
    const chips = x.tiers.map((t) => h("span", {
      class: `chip t-${t.state} sev-${t.severity}`,
      title: `${t.name} (${t.severity}): long ${t.long.window} ${burn(t.long.burn)}, short ${t.short.window} ${burn(t.short.burn)}, fires above ${factor(t.factor)} — ${STATE_TEXT[t.state] || t.state}`,
    }, h("b", {}, t.name), burn(t.long.burn), t.state === "firing" ? "▲" : null));
    return h("tr", {
      class: `slo state-${x.state}${sev ? " sev-" + sev : ""}`, dataset: { slo: x.name, state: x.state },
    },
    h("td", {}, h("div", { class: "slo-name" }, sloLink(x.name)),
      h("div", { class: "slo-sub" }, [x.flow, x.period, x.criticality].filter(Boolean).join(" · "))),
    h("td", {}, x.objective.text),
    h("td", {}, h("div", { class: "budget" }, h("span", { class: `budget-value lvl-${level(x.budget_left)}` }, pct(x.budget_left)), bar)),
    h("td", {}, h("div", { class: "chips" }, chips)),
    h("td", {}, stateBadge(x.state, x.severity)));
  }));
}

function renderAlerts(list) {
  const active = list.alerts.filter((a) => a.state === "active");
  $("n-alerts").textContent = active.length;
  $("tile-alerts").classList.toggle("alarm", active.some((a) => a.severity === "page"));
  if (list.alerts.length === 0) {
    replace($("alert-rows"), h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No alert is firing.")));
    return;
  }
  replace($("alert-rows"), list.alerts.map((a) => h("tr", { dataset: { slo: a.slo, tier: a.tier } },
    h("td", {}, h("span", { class: `state s-firing sev-${a.severity}` }, a.severity)),
    h("td", {}, sloLink(a.slo)),
    h("td", {}, h("div", {}, a.summary), h("div", { class: "slo-sub" }, `${a.tier} · ${a.kind}`)),
    h("td", { class: "num" }, a.kind === "burn" ? `${burn(a.burn_long)} / ${burn(a.burn_short)}` : "–"),
    h("td", { title: a.starts_at }, ago(a.starts_at)),
    h("td", {}, h("span", { class: `state s-${a.state}` }, a.state),
      a.silenced_by.length ? h("div", { class: "slo-sub" }, "silenced") : null,
      a.inhibited_by.length ? h("div", { class: "slo-sub" }, "inhibited") : null))));
}

function renderFlows(list) {
  $("flows-window").textContent = list.window ? `over the last ${list.window}` : "";
  if (list.flows.length === 0) {
    replace($("flow-rows"), h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No flow has sent events yet.")));
    return;
  }
  replace($("flow-rows"), list.flows.map((f) => h("tr", { dataset: { flow: f.flow } },
    h("td", {}, h("b", {}, f.flow)),
    h("td", { class: "num" }, count(f.events)),
    h("td", { class: "num" }, f.errors === null ? "–" : count(f.errors)),
    h("td", { class: "num" }, f.error_ratio === null ? "–" : pct(f.error_ratio)),
    h("td", { class: "num" }, latency(f.p50)),
    h("td", { class: "num" }, latency(f.p95)),
    h("td", { class: "num" }, latency(f.p99)),
    h("td", {}, f.slos.flatMap((n, i) => (i ? [", ", sloLink(n)] : [sloLink(n)]))))));
}

// Charts.

const M = { l: 52, r: 16, t: 12, b: 26 };

// chart draws a time series: points [{t: ms, v}], over [t0, t1], values
// within [lo, hi]; opts: width and height (the pixels it is drawn in, so
// its text keeps its size), lineClass, yTicks [{v, label}], rules [{v,
// label}], title, baseline.
function chart(points, t0, t1, lo, hi, opts) {
  const W = opts.width, H = opts.height;
  const x = (t) => M.l + ((t - t0) / (t1 - t0 || 1)) * (W - M.l - M.r);
  const y = (v) => M.t + (1 - (v - lo) / (hi - lo || 1)) * (H - M.t - M.b);
  const id = "c" + Math.random().toString(36).slice(2);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-labelledby": id },
    s("title", { id }, opts.title));
  for (const tk of opts.yTicks) {
    svg.append(s("line", { class: tk.v === 0 ? "zero" : "grid", x1: M.l, x2: W - M.r, y1: y(tk.v), y2: y(tk.v) }),
      s("text", { class: "axis", x: M.l - 6, y: y(tk.v) + 4, "text-anchor": "end" }, tk.label));
  }
  for (const [frac, label] of opts.xLabels) {
    svg.append(s("text", { class: "axis", x: M.l + frac * (W - M.l - M.r), y: H - 6,
      "text-anchor": frac === 0 ? "start" : frac === 1 ? "end" : "middle" }, label));
  }
  if (opts.nowAt !== undefined && opts.nowAt < t1) {
    svg.append(s("line", { class: "grid now", x1: x(opts.nowAt), x2: x(opts.nowAt), y1: M.t, y2: H - M.b }),
      s("text", { class: "axis", x: x(opts.nowAt) + 4, y: M.t + 10 }, "now"));
  }
  const pts = points.filter((p) => p.t >= t0 && p.t <= t1);
  if (pts.length === 0) {
    svg.append(s("text", { class: "nodata", x: (W + M.l) / 2, y: H / 2, "text-anchor": "middle" }, opts.empty));
  } else {
    const line = pts.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
    const base = y(Math.max(lo, Math.min(hi, opts.baseline ?? lo)));
    const area = `${line}L${x(pts[pts.length - 1].t).toFixed(1)},${base.toFixed(1)}L${x(pts[0].t).toFixed(1)},${base.toFixed(1)}Z`;
    svg.append(s("path", { class: `area ${opts.lineClass}`, d: area }), s("path", { class: `line ${opts.lineClass}`, d: line }));
    if (pts.length === 1) svg.append(s("circle", { class: `line ${opts.lineClass}`, cx: x(pts[0].t), cy: y(pts[0].v), r: 3 }));
  }
  for (const r of opts.rules || []) {
    svg.append(s("line", { class: "factor", x1: M.l, x2: W - M.r, y1: y(r.v), y2: y(r.v) }),
      s("text", { class: "factor-label", x: W - M.r - 4, y: y(r.v) - 5, "text-anchor": "end" }, r.label));
  }
  return svg;
}

// span is the period a chart shows, with its axis labels: the rolling
// period up to the evaluation, or the whole calendar period with a line
// at now.
function span(x, evaluated) {
  const end = evaluated ? Date.parse(evaluated) : Date.now();
  if (x.period === "month" || x.period === "week") {
    const t0 = Date.parse(x.period_start);
    return { t0, t1: t0 + x.period_seconds * 1000, nowAt: end,
      xLabels: [[0, `start of the ${x.period}`], [1, `end of the ${x.period}`]] };
  }
  const t0 = end - x.period_seconds * 1000;
  return { t0, t1: end, xLabels: [[0, "−" + dur(x.period_seconds)], [0.5, "−" + dur(x.period_seconds / 2)], [1, "now"]] };
}

function niceMax(v) {
  const steps = [1, 2, 2.5, 5, 10];
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of steps) if (m * p >= v) return m * p;
  return 10 * p;
}

function burndown(x, evaluated, width) {
  const sp = span(x, evaluated);
  const pts = x.history.samples.map((p) => ({ t: Date.parse(p.t), v: p.budget_left }));
  if (evaluated && (!pts.length || pts[pts.length - 1].t < Date.parse(evaluated))) pts.push({ t: Date.parse(evaluated), v: x.budget_left });
  const min = Math.min(0, ...pts.map((p) => p.v));
  const lo = min < 0 ? -niceMax(-min) : 0;
  const ticks = [{ v: 1, label: "100%" }, { v: 0.5, label: "50%" }, { v: 0, label: "0%" }];
  if (lo < 0) ticks.push({ v: lo, label: pct(lo) });
  const period = x.period === "month" || x.period === "week" ? x.period : dur(x.period_seconds);
  return chart(pts, sp.t0, sp.t1, lo, 1, {
    width, height: 240, xLabels: sp.xLabels, nowAt: sp.nowAt,
    title: `Error budget left over the ${period}: now ${pct(x.budget_left)}`,
    lineClass: { ok: "ok", low: "low", out: "bad" }[level(x.budget_left)], yTicks: ticks, baseline: 0,
    empty: `No samples yet: one is kept every ${dur(x.history.step_seconds || 0)}.`,
  });
}

function burnChart(x, tier, evaluated, width) {
  const sp = span(x, evaluated);
  const j = x.history.tiers.indexOf(tier.name);
  const pts = j < 0 ? [] : x.history.samples.map((p) => ({ t: Date.parse(p.t), v: p.burn[j] }));
  if (evaluated && (!pts.length || pts[pts.length - 1].t < Date.parse(evaluated))) pts.push({ t: Date.parse(evaluated), v: tier.long.burn });
  const hi = niceMax(Math.max(1, tier.factor * 1.25, ...pts.map((p) => p.v)) * 1.05);
  const ticks = [0, hi / 2, hi].map((v) => ({ v, label: burn(v) }));
  return chart(pts, sp.t0, sp.t1, 0, hi, {
    width, height: 180, xLabels: sp.xLabels, nowAt: sp.nowAt,
    title: `${tier.name}: ${tier.long.window} burn rate ${burn(tier.long.burn)}, fires above ${factor(tier.factor)}`,
    lineClass: tier.state === "firing" ? "bad" : "", yTicks: ticks, baseline: 0, rules: [{ v: tier.factor, label: factor(tier.factor) }],
    empty: "No samples yet.",
  });
}

// The SLO page.

function renderDetail(x, evaluated) {
  const sev = x.state === "firing" ? x.severity : "";
  $("detail-hero").className = `card hero state-${x.state}${sev ? " sev-" + sev : ""}`;
  $("detail-hero").dataset.state = x.state;
  $("detail-name").textContent = x.name;
  $("detail-objective").textContent = x.objective.text + (x.description ? ` — ${x.description}` : "");
  $("detail-meta").textContent = [`flow ${x.flow}`, `${x.period} period`, x.criticality,
    ...Object.entries(x.labels).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(" · ");
  replace($("detail-state"), stateBadge(x.state, x.severity));
  const b = $("detail-budget");
  b.textContent = pct(x.budget_left);
  b.className = `kpi-value lvl-${level(x.budget_left)}`;
  setMeter($("detail-bar"), x.budget_left);
  $("detail-sli").textContent = x.total ? pct(x.good / x.total) : "–";
  $("detail-sli-label").textContent = `Good over the ${x.period} (target ${target(x.target)})`;
  $("detail-counts").textContent = `${count(x.good)} good of ${count(x.total)}`;
  const firing = x.tiers.filter((t) => t.state === "firing").map((t) => t.name)
    .concat(x.conditions.filter((c) => c.firing).map((c) => c.name));
  $("detail-firing").textContent = firing.length ? firing.join(", ") : "nothing";

  const fig = $("burndown");
  replace(fig, h("figcaption", {}, `One sample every ${dur(x.history.step_seconds || 0)}; ${x.history.samples.length} kept.`));
  fig.prepend(burndown(x, evaluated, inner(fig)));

  const cards = x.tiers.map((t) => h("figure", { class: `chart burn-card t-${t.state}`, dataset: { tier: t.name } },
    h("h4", {}, h("span", {}, `${t.name} `, h("span", { class: "muted" }, `${t.severity} · ${t.long.window} / ${t.short.window}`)),
      h("span", { class: `chip t-${t.state} sev-${t.severity}` }, STATE_TEXT[t.state] || t.state)),
    h("p", { class: "burn-now" }, "now ", h("b", {}, burn(t.long.burn)), ` over ${t.long.window}, `,
      h("b", {}, burn(t.short.burn)), ` over ${t.short.window}; fires above ${factor(t.factor)}`)));
  replace($("burn-charts"), cards);
  cards.forEach((card, i) => card.append(burnChart(x, x.tiers[i], evaluated, inner(card))));

  replace($("tier-rows"), x.tiers.map((t) => h("tr", { dataset: { tier: t.name, state: t.state } },
    h("td", {}, h("b", {}, t.name)),
    h("td", {}, t.severity),
    h("td", {}, `${t.long.window}: ${burn(t.long.burn)}`, h("div", { class: "slo-sub" }, `${count(t.long.bad)} bad of ${count(t.long.total)}`)),
    h("td", {}, `${t.short.window}: ${burn(t.short.burn)}`, h("div", { class: "slo-sub" }, `${count(t.short.bad)} bad of ${count(t.short.total)}`)),
    h("td", { class: "num" }, factor(t.factor)),
    h("td", {}, stateBadge(t.state, t.severity),
      t.state === "warming_up" ? h("div", { class: "slo-sub" }, `${dur(t.warm_up_left_seconds)} left`) : null))));

  $("condition-block").hidden = x.conditions.length === 0;
  replace($("condition-rows"), x.conditions.map((c) => h("tr", {},
    h("td", {}, h("b", {}, c.name)), h("td", {}, c.kind), h("td", {}, c.severity),
    h("td", { class: "num" }, conditionValue(c, c.value)), h("td", { class: "num" }, conditionValue(c, c.threshold)),
    h("td", {}, stateBadge(c.firing ? "firing" : "ok", c.severity)))));

  $("detail-flow").textContent = x.flow;
  replace($("latency-rows"), x.latency.length ? x.latency.map((p) => h("tr", {},
    h("td", {}, p.window), h("td", { class: "num" }, count(p.count)),
    ...[p.p50, p.p90, p.p95, p.p99, p.p999].map((v) => h("td", { class: "num" }, latency(v)))))
    : h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No latency yet.")));

  replace($("detail-alerts"), x.alerts.length ? x.alerts.map((a) => h("li", {},
    h("span", { class: `state s-firing sev-${a.severity}` }, a.severity), " ", a.summary,
    h("div", { class: "slo-sub" }, `firing since ${ago(a.starts_at)} · ${a.state}`,
      a.silenced_by.length ? " (silenced)" : "", a.inhibited_by.length ? " (inhibited)" : "")))
    : h("li", { class: "muted" }, "No alert of this SLO is firing."));
  replace($("detail-exemplars"), x.exemplars.length ? x.exemplars.map((e) => h("li", {},
    h("code", {}, e.trace_id), h("span", { class: "muted" }, ` ${latency(e.duration_seconds)}, ${ago(e.end)}`)))
    : h("li", { class: "muted" }, "None in the period."));
}

// inner is the width an element gives its content, in pixels.
function inner(el) {
  const cs = getComputedStyle(el);
  const w = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return Math.max(280, Math.round(w || 760));
}

// conditionValue renders a condition's value or threshold: a share of the
// budget, or seconds (a time to exhaustion of centuries is never).
function conditionValue(c, v) {
  if (c.kind === "budget") return pct(v);
  return v > 1e9 ? "never" : dur(v);
}

// Polling.

let timer = null;

async function refresh() {
  clearTimeout(timer);
  const problems = [];
  try {
    const st = await get("api/v1/status");
    renderDaemon(st);
    if (st.spec_error) problems.push(`Spec files rejected ${ago(st.spec_error.at)}; the running specs go on: ${st.spec_error.error}`);
    if (view.slo === null) {
      const [slos, alerts, flows] = await Promise.all([get("api/v1/slos"), get("api/v1/alerts"),
        get("api/v1/flows?sort=" + encodeURIComponent(view.sort))]);
      renderSLOs(slos);
      renderAlerts(alerts);
      renderFlows(flows);
    } else {
      try {
        view.detail = [await get("api/v1/slos/" + encodeURIComponent(view.slo)), st.evaluated_at];
        renderDetail(...view.detail);
      } catch (err) {
        if (err.status !== 404) throw err;
        problems.push(`There is no SLO named ${view.slo}.`);
      }
    }
  } catch (err) {
    problems.push(`Cannot reach Burnwatch: ${err.message}. Retrying every ${POLL_MS / 1000}s.`);
  }
  renderBanner(problems);
  document.body.dataset.loaded = "true";
  timer = setTimeout(refresh, POLL_MS);
}

let resizing = null;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => { if (view.slo !== null && view.detail) renderDetail(...view.detail); }, 150);
});
window.addEventListener("hashchange", () => { route(); view.detail = null; refresh(); });
document.addEventListener("DOMContentLoaded", () => {
  $("flow-sort").addEventListener("change", (e) => { view.sort = e.target.value; refresh(); });
  route();
  refresh();
});
