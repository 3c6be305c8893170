// Small SVG charts for the Metrics pane: stacked bars and lines over even time steps, an axis of
// nice numbers, and a tooltip that follows the pointer. Written here rather than vendored: three
// charts need ~200 lines, nothing to keep up to date, and SVG elements styled by classes keep the
// page within its strict CSP (no inline style attributes, no eval).

import { h } from "./dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const HEIGHT = 150;
const MARGIN = { top: 10, right: 10, bottom: 22, left: 50 };

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

/** 0 and up to four steps of 1, 2 or 5 × 10^k that reach `max`. */
export function niceTicks(max) {
  if (!(max > 0)) return [0, 1];
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function pad(n) {
  return String(n).padStart(2, "0");
}

function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * A chart of `points` ({at, ...values}) into `host`, redrawn when `host` changes size.
 * `series`: [{key, label, cls, kind: "bar" | "line"}]; bars stack in order.
 * `format(v)`: a value as shown on the axis and in the tooltip.
 */
export class Chart {
  constructor(host, { series, format, stepSeconds, title }) {
    this.host = host;
    this.series = series;
    this.format = format;
    this.stepSeconds = stepSeconds;
    this.title = title;
    this.points = [];
    this.tip = h("div", { class: "chart-tip", hidden: true, role: "status" });
    this.frame = h("div", { class: "chart-frame" });
    host.replaceChildren(this.frame, this.tip);
    this.width = 0;
    this.resize = new ResizeObserver(() => {
      if (host.clientWidth !== this.width) this.draw();
    });
    this.resize.observe(host);
  }

  update(points, stepSeconds = this.stepSeconds) {
    this.points = Array.isArray(points) ? points : [];
    this.stepSeconds = stepSeconds;
    this.draw();
  }

  value(point, key) {
    const v = point?.[key];
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  }

  /** What each point stacks to (bars) or reaches (lines): the top of the axis. */
  peak() {
    let peak = 0;
    for (const point of this.points) {
      let stacked = 0;
      for (const s of this.series) {
        const v = this.value(point, s.key) ?? 0;
        if (s.kind === "bar") stacked += v;
        else peak = Math.max(peak, v);
      }
      peak = Math.max(peak, stacked);
    }
    return peak;
  }

  draw() {
    const width = Math.max(200, this.host.clientWidth);
    this.width = this.host.clientWidth;
    const n = this.points.length || 1;
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const ticks = niceTicks(this.peak());
    const top = ticks[ticks.length - 1] || 1;
    const slot = plotW / n;
    const x = (i) => MARGIN.left + i * slot;
    const y = (v) => MARGIN.top + plotH - (v / top) * plotH;
    const root = svg("svg", { class: "chart", width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: "img" });
    root.setAttribute("aria-label", this.summary());

    for (const tick of ticks) {
      root.append(svg("line", { class: "chart-grid", x1: MARGIN.left, x2: width - MARGIN.right, y1: y(tick), y2: y(tick) }));
      const label = svg("text", { class: "chart-axis", x: MARGIN.left - 6, y: y(tick) + 3.5, "text-anchor": "end" });
      label.textContent = this.format(tick, true);
      root.append(label);
    }
    this.points.forEach((point, i) => {
      const at = Date.parse(point.at);
      const d = new Date(at);
      const every = this.stepSeconds >= 600 ? d.getMinutes() === 0 && d.getHours() % 4 === 0 : d.getMinutes() % 15 === 0;
      if (!every || Number.isNaN(at)) return;
      root.append(svg("line", { class: "chart-tick", x1: x(i), x2: x(i), y1: MARGIN.top + plotH, y2: MARGIN.top + plotH + 4 }));
      const label = svg("text", { class: "chart-axis", x: x(i), y: HEIGHT - 6, "text-anchor": "middle" });
      label.textContent = clock(at);
      root.append(label);
    });

    const barWidth = Math.max(1, slot * 0.72);
    const offset = (slot - barWidth) / 2;
    this.points.forEach((point, i) => {
      let base = 0;
      for (const s of this.series) {
        if (s.kind !== "bar") continue;
        const v = this.value(point, s.key) ?? 0;
        if (v <= 0) continue;
        root.append(svg("rect", { class: `chart-bar ${s.cls}`, x: x(i) + offset, y: y(base + v), width: barWidth, height: Math.max(1, y(base) - y(base + v)) }));
        base += v;
      }
    });
    for (const s of this.series) {
      if (s.kind !== "line") continue;
      let d = "";
      this.points.forEach((point, i) => {
        const v = this.value(point, s.key);
        if (v === null) return;
        const prev = this.value(this.points[i - 1], s.key);
        const next = this.value(this.points[i + 1], s.key);
        const cx = x(i) + slot / 2;
        d += `${prev === null ? "M" : "L"}${cx.toFixed(1)},${y(v).toFixed(1)}`;
        // A point alone between gaps would draw nothing: a dot shows it.
        if (prev === null && next === null) root.append(svg("circle", { class: `chart-dot ${s.cls}`, cx, cy: y(v), r: 2.5 }));
      });
      if (d) root.append(svg("path", { class: `chart-line ${s.cls}`, d }));
    }
    root.append(svg("line", { class: "chart-base", x1: MARGIN.left, x2: width - MARGIN.right, y1: MARGIN.top + plotH, y2: MARGIN.top + plotH }));

    const guide = svg("line", { class: "chart-guide", y1: MARGIN.top, y2: MARGIN.top + plotH, visibility: "hidden" });
    root.append(guide);
    root.addEventListener("pointermove", (event) => {
      const box = root.getBoundingClientRect();
      const i = Math.floor((event.clientX - box.left - MARGIN.left) / slot);
      if (i < 0 || i >= this.points.length) return this.hideTip(guide);
      const cx = x(i) + slot / 2;
      guide.setAttribute("x1", String(cx));
      guide.setAttribute("x2", String(cx));
      guide.setAttribute("visibility", "visible");
      this.showTip(this.points[i], cx, width);
    });
    root.addEventListener("pointerleave", () => this.hideTip(guide));
    this.frame.replaceChildren(root);
  }

  showTip(point, cx, width) {
    const at = Date.parse(point.at);
    const end = at + this.stepSeconds * 1000;
    this.tip.replaceChildren(
      h("div", { class: "chart-tip-time" }, `${clock(at)}–${clock(end)}`),
      ...this.series.map((s) =>
        h("div", { class: "chart-tip-row" }, h("span", { class: `chart-swatch ${s.cls}` }), h("span", { class: "chart-tip-label" }, s.label), h("span", { class: "chart-tip-value" }, this.value(point, s.key) === null ? "–" : this.format(this.value(point, s.key)))),
      ),
    );
    this.tip.hidden = false;
    // Positioned from JavaScript (CSSOM), which a strict style-src allows.
    const left = Math.min(Math.max(cx + 12, 0), width - 150);
    this.tip.style.left = `${cx + 12 + 150 > width ? cx - 162 : left}px`;
  }

  hideTip(guide) {
    guide.setAttribute("visibility", "hidden");
    this.tip.hidden = true;
  }

  summary() {
    const totals = this.series.map((s) => {
      const values = this.points.map((p) => this.value(p, s.key)).filter((v) => v !== null);
      if (!values.length) return `${s.label}: none`;
      const shown = s.kind === "bar" ? values.reduce((a, b) => a + b, 0) : Math.max(...values);
      return `${s.label}: ${s.kind === "bar" ? "" : "up to "}${this.format(shown)}`;
    });
    return `${this.title}. ${totals.join(", ")}`;
  }

  dispose() {
    this.resize.disconnect();
  }
}
