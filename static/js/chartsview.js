// The Metrics pane: a function's runs, errors, and wall and CPU time (p50, p99) over the last hour
// or day, from the rollups the server keeps (GET /functions/{ref}/stats), redrawn every 10 s while
// it is open.

import { api } from "./api.js";
import { Chart } from "./chart.js";
import { h, icon } from "./dom.js";
import { formatMs } from "./format.js";
import { refOf } from "./historyview.js";

const POLL_MS = 10_000;
const WINDOWS = [
  { key: "hour", label: "1h", title: "The last hour, a point a minute" },
  { key: "day", label: "24h", title: "The last day, a point every ten minutes" },
];

function count(n, axis = false) {
  if (!Number.isFinite(n)) return "–";
  if (axis && n >= 1000) return `${Number((n / 1000).toPrecision(3))}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function ms(value, axis = false) {
  if (axis) {
    if (value === 0) return "0";
    if (value >= 1000) return `${Number((value / 1000).toPrecision(3))} s`;
    return `${Number(value.toPrecision(3))} ms`;
  }
  return formatMs(value);
}

export class ChartsView {
  constructor(els) {
    this.els = els; // {status, body}
    this.fn = null;
    this.window = "hour";
    this.data = null;
    this.error = null;
    this.visible = false;
    this.poll = null;
    this.seq = 0;
    this.refreshButton = h("button", { class: "btn btn-xs btn-ghost refresh-btn", type: "button", title: "Refresh the charts", onclick: () => this.refresh() }, icon("refresh"), "Refresh");
    this.windowButtons = WINDOWS.map((w) =>
      h("button", { class: "seg-btn", type: "button", title: w.title, "aria-pressed": String(w.key === this.window), dataset: { window: w.key }, onclick: () => this.setWindow(w.key) }, w.label),
    );
    this.segment = h("div", { class: "seg", role: "group", "aria-label": "Time window" }, this.windowButtons);
    this.totals = h("div", { class: "chart-totals" });
    this.note = h("p", { class: "pane-note charts-note", hidden: true });
    const card = (title, legend, host) =>
      h(
        "section",
        { class: "chart-card" },
        h("div", { class: "chart-head" }, h("h3", null, title), h("div", { class: "chart-legend" }, legend.map(([cls, label]) => h("span", null, h("span", { class: `chart-swatch ${cls}` }), label)))),
        host,
      );
    const hosts = { requests: h("div", { class: "chart-host", id: "chart-requests" }), wall: h("div", { class: "chart-host", id: "chart-wall" }), cpu: h("div", { class: "chart-host", id: "chart-cpu" }) };
    this.cards = h(
      "div",
      { class: "chart-cards" },
      card("Requests", [["c-ok", "ok"], ["c-err", "errors"]], hosts.requests),
      card("Wall time", [["c-p50", "p50"], ["c-p99", "p99"]], hosts.wall),
      card("CPU time", [["c-p50", "p50"], ["c-p99", "p99"]], hosts.cpu),
    );
    els.body.replaceChildren(this.totals, this.note, this.cards);
    this.charts = {
      requests: new Chart(hosts.requests, {
        title: "Requests",
        series: [
          { key: "ok", label: "ok", cls: "c-ok", kind: "bar" },
          { key: "errors", label: "errors", cls: "c-err", kind: "bar" },
        ],
        format: count,
        stepSeconds: 60,
      }),
      wall: new Chart(hosts.wall, {
        title: "Wall time",
        series: [
          { key: "wall_p50_ms", label: "p50", cls: "c-p50", kind: "line" },
          { key: "wall_p99_ms", label: "p99", cls: "c-p99", kind: "line" },
        ],
        format: ms,
        stepSeconds: 60,
      }),
      cpu: new Chart(hosts.cpu, {
        title: "CPU time",
        series: [
          { key: "cpu_p50_ms", label: "p50", cls: "c-p50", kind: "line" },
          { key: "cpu_p99_ms", label: "p99", cls: "c-p99", kind: "line" },
        ],
        format: ms,
        stepSeconds: 60,
      }),
    };
    this.render();
  }

  setFunction(fn) {
    if (refOf(fn) === refOf(this.fn)) {
      this.fn = fn;
      return;
    }
    this.fn = fn;
    this.data = null;
    this.error = null;
    this.seq += 1;
    this.render();
    if (fn && this.visible) this.refresh();
  }

  setWindow(key) {
    if (key === this.window) return;
    this.window = key;
    for (const button of this.windowButtons) button.setAttribute("aria-pressed", String(button.dataset.window === key));
    this.data = null;
    this.render();
    this.refresh();
  }

  setVisible(visible) {
    this.visible = visible;
    clearInterval(this.poll);
    this.poll = null;
    if (!visible) return;
    this.refresh();
    this.poll = setInterval(() => {
      if (document.visibilityState === "visible") this.refresh({ quiet: true });
    }, POLL_MS);
  }

  async refresh({ quiet = false } = {}) {
    const ref = refOf(this.fn);
    if (!ref || !this.visible) return;
    const seq = ++this.seq;
    if (!quiet) this.refreshButton.classList.add("spinning");
    try {
      const data = await api.stats(ref, this.window);
      if (seq !== this.seq) return;
      this.data = data;
      this.error = null;
    } catch (error) {
      if (seq !== this.seq) return;
      this.error = error;
    } finally {
      if (seq === this.seq) this.refreshButton.classList.remove("spinning");
    }
    this.render();
  }

  render() {
    const { status } = this.els;
    const data = this.data;
    const chips = [];
    if (this.fn && data) {
      const total = data.total ?? {};
      const errors = total.errors ?? 0;
      const requests = total.requests ?? 0;
      chips.push(
        h("span", { class: "status-chip", title: `Runs that ended in the last ${this.window}` }, `${requests} ${requests === 1 ? "run" : "runs"}`),
        h("span", { class: `status-chip ${errors ? "fail" : "ok"}`, title: "Runs that ended with an error" }, icon(errors ? "x" : "check"), requests ? `${((errors / requests) * 100).toFixed(errors && errors < requests / 100 ? 2 : 1)}% errors` : "no errors"),
      );
    } else if (this.fn && this.error) {
      chips.push(h("span", { class: "status-chip fail", title: this.error.message }, icon("x"), "Could not load the charts"));
    } else if (this.fn) {
      chips.push(h("span", { class: "spinner small" }), h("span", { class: "status-label muted" }, "Loading…"));
    } else {
      chips.push(h("span", { class: "status-label muted" }, "No function open"));
    }
    status.replaceChildren(this.segment, ...chips, h("span", { class: "status-spacer" }), this.refreshButton);

    const total = data?.total;
    this.totals.replaceChildren(
      ...[
        ["Requests", total ? count(total.requests) : "–", "requests"],
        ["Errors", total ? count(total.errors) : "–", "errors"],
        ["Wall p50 / p99", total ? `${formatMs(total.wall_p50_ms ?? undefined)} / ${formatMs(total.wall_p99_ms ?? undefined)}` : "–", "wall"],
        ["CPU p50 / p99", total ? `${formatMs(total.cpu_p50_ms ?? undefined)} / ${formatMs(total.cpu_p99_ms ?? undefined)}` : "–", "cpu"],
      ].map(([label, value, key]) => h("div", { class: "chart-total", dataset: { total: key } }, h("span", { class: "chart-total-label" }, label), h("span", { class: "chart-total-value" }, value))),
    );
    const points = (data?.points ?? []).map((p) => ({ ...p, ok: Math.max(0, (p.requests ?? 0) - (p.errors ?? 0)) }));
    const step = data?.step_seconds ?? (this.window === "day" ? 600 : 60);
    for (const chart of Object.values(this.charts)) chart.update(points, step);
    this.note.hidden = !(data && !total?.requests);
    this.note.textContent = `No runs of this function in the last ${this.window}. Run it (or send it a request) and the charts fill in within seconds.`;
  }
}
