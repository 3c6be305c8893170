// The History pane: the last runs of the open function, whoever started them (this page, the CLI,
// curl, the HTTP trigger, cron), each opening onto the logs and error the server kept.

import { api, ApiError } from "./api.js";
import { h, icon } from "./dom.js";
import { clockTime, dayTime, formatMs, fullTime, relativeTime, shortId } from "./format.js";
import { errorCard, logLine } from "./views.js";

const POLL_MS = 5000;
const TRIGGERS = {
  execute: { icon: "bolt", label: "API", title: "POST /execute (this page, the CLI, curl)" },
  http: { icon: "globe", label: "HTTP", title: "the HTTP trigger /fn/…" },
  cron: { icon: "calendar", label: "Cron", title: "a cron schedule" },
  scheduled: { icon: "calendar", label: "Scheduled", title: "the scheduled handler run on demand (vortex trigger)" },
};

// A run another function started through its service binding: "service:<caller>".
const triggerOf = (text) =>
  text.startsWith("service:")
    ? { icon: "bolt", label: "Service", title: `called by ${text.slice(8)} through a service binding` }
    : { icon: "bolt", label: text, title: "" };

export const refOf = (fn) => (fn ? fn.name ?? fn.id : null);

export class HistoryView {
  constructor(els, { onCopy }) {
    this.els = els;
    this.onCopy = onCopy;
    this.fn = null;
    this.runs = null;
    this.error = null;
    this.rows = new Map(); // run id -> its <li>, kept across refreshes so an open row stays open
    this.seq = 0;
    this.visible = false;
    this.poll = null;
    els.refresh.addEventListener("click", () => this.refresh());
    this.render();
  }

  get ref() {
    return refOf(this.fn);
  }

  setFunction(fn) {
    if (refOf(fn) === this.ref) {
      this.fn = fn;
      return;
    }
    this.fn = fn;
    this.runs = null;
    this.error = null;
    this.rows.clear();
    this.els.list.replaceChildren();
    this.seq += 1;
    this.render();
    if (fn && this.visible) this.refresh();
  }

  setVisible(visible) {
    this.visible = visible;
    clearInterval(this.poll);
    this.poll = null;
    if (!visible) return;
    this.refresh();
    // Runs started elsewhere (CLI, trigger, cron) show up without a click.
    this.poll = setInterval(() => {
      if (document.visibilityState === "visible") this.refresh({ quiet: true });
    }, POLL_MS);
  }

  async refresh({ quiet = false } = {}) {
    const ref = this.ref;
    if (!ref) return;
    const seq = ++this.seq;
    if (!quiet) this.els.refresh.classList.add("spinning");
    try {
      const data = await api.runs(ref);
      if (seq !== this.seq) return;
      this.runs = Array.isArray(data?.runs) ? data.runs : [];
      this.error = null;
    } catch (error) {
      if (seq !== this.seq) return;
      this.error = error;
    } finally {
      if (seq === this.seq) this.els.refresh.classList.remove("spinning");
    }
    this.render();
  }

  render() {
    const { status, empty, list, head } = this.els;
    const runs = this.runs;
    head.hidden = !runs?.length;
    if (!this.fn) {
      this.status(h("span", { class: "status-label muted" }, "No function open"));
      this.empty("history", "No history yet", "Deploy a function or open one from the list to see its runs.");
      return;
    }
    if (runs === null) {
      if (this.error) {
        this.status(h("span", { class: "status-icon" }, icon("x")), h("span", { class: "status-label" }, "Could not load the history"));
        this.empty("alert", "History unavailable", this.error.message);
      } else {
        this.status(h("span", { class: "spinner small" }), h("span", { class: "status-label muted" }, "Loading runs…"));
        empty.hidden = true;
      }
      return;
    }
    const failed = runs.filter((run) => !run.ok).length;
    const times = runs.map((run) => run.execution_time_ms).filter((ms) => typeof ms === "number").sort((a, b) => a - b);
    const median = times.length ? times[Math.floor((times.length - 1) / 2)] : null;
    this.status(
      h("span", { class: "status-label" }, runs.length === 1 ? "1 run" : `${runs.length} runs`),
      runs.length ? h("span", { class: "status-chip ok", title: "Runs that succeeded" }, icon("check"), String(runs.length - failed)) : null,
      failed ? h("span", { class: "status-chip fail", title: "Runs that failed" }, icon("x"), String(failed)) : null,
      median !== null ? h("span", { class: "status-chip", title: "Median wall-clock time" }, icon("clock"), `p50 ${formatMs(median)}`) : null,
      this.error ? h("span", { class: "status-chip fail", title: this.error.message }, "refresh failed") : null,
    );
    if (!runs.length) {
      this.empty("history", "No runs yet", "Every run of this function is listed here — from this page, the CLI, curl, the HTTP trigger or cron — with its time, outcome and logs.");
      list.replaceChildren();
      return;
    }
    empty.hidden = true;
    const now = Date.now();
    const named = runs.some((run) => run.version !== null && run.version !== undefined);
    list.classList.toggle("unversioned", !named);
    head.classList.toggle("unversioned", !named);
    const seen = new Set();
    const items = runs.map((run) => {
      seen.add(run.run_id);
      let row = this.rows.get(run.run_id);
      if (!row) {
        row = this.row(run);
        this.rows.set(run.run_id, row);
      }
      const when = row.querySelector(".hr-rel");
      when.textContent = relativeTime(run.at, now);
      return row;
    });
    for (const id of this.rows.keys()) if (!seen.has(id)) this.rows.delete(id);
    list.replaceChildren(...items);
  }

  status(...children) {
    const { status } = this.els;
    status.replaceChildren(
      ...children.filter(Boolean),
      h("span", { class: "status-spacer" }),
      this.els.refresh,
    );
  }

  empty(iconName, title, text) {
    const { empty } = this.els;
    empty.replaceChildren(h("div", { class: "empty-icon" }, icon(iconName)), h("p", { class: "empty-title" }, title), h("p", null, text));
    empty.hidden = false;
  }

  row(run) {
    const outcome = run.ok ? "ok" : "fail";
    const trigger = TRIGGERS[run.trigger] ?? triggerOf(String(run.trigger ?? "—"));
    const detailId = `run-${run.run_id}`;
    const detail = h("div", { class: "hdetail", id: detailId, hidden: true });
    const button = h(
      "button",
      {
        class: "hrow",
        type: "button",
        "aria-expanded": "false",
        "aria-controls": detailId,
        title: `Run ${run.run_id}`,
      },
      h("span", { class: "hr-icon" }, icon(run.ok ? "check" : "x")),
      h(
        "span",
        { class: "hr-when", title: fullTime(run.at) },
        h("span", { class: "hr-rel" }, relativeTime(run.at)),
        h("span", { class: "hr-clock" }, clockTime(run.at)),
      ),
      h(
        "span",
        { class: "hr-meta" },
        h("span", { class: "hr-ver", title: run.function_id ? `version ${run.version ?? ""} · ${run.function_id}` : "" }, run.version ? `v${run.version}` : "—"),
        h("span", { class: "hr-trigger", title: trigger.title }, icon(trigger.icon), trigger.label),
        h("span", { class: "hr-dur", title: "Wall-clock time" }, h("span", { class: "hr-unit" }, icon("clock")), formatMs(run.execution_time_ms)),
        h("span", { class: "hr-cpu", title: "CPU time" }, h("span", { class: "hr-unit" }, "CPU "), formatMs(run.cpu_time_ms ?? undefined)),
      ),
      h("span", { class: "hr-outcome", title: run.ok ? "Succeeded" : String(run.error_code ?? "failed") }, run.ok ? "OK" : String(run.error_code ?? "failed")),
      h("span", { class: "hr-chevron" }, icon("chevron")),
    );
    const item = h("li", { class: "hrun", dataset: { outcome, runId: String(run.run_id) } }, button, detail);
    button.addEventListener("click", () => this.toggle(run, item, button, detail));
    return item;
  }

  async toggle(run, item, button, detail) {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    item.classList.toggle("open", open);
    detail.hidden = !open;
    if (!open || detail.dataset.loaded) return;
    detail.replaceChildren(h("div", { class: "hdetail-loading" }, h("span", { class: "spinner small" }), "Loading logs…"));
    try {
      const entry = await api.runDetail(this.ref, run.run_id);
      detail.dataset.loaded = "1";
      detail.replaceChildren(...this.detail(entry));
    } catch (error) {
      const gone = error instanceof ApiError && error.status === 404;
      detail.replaceChildren(
        h("div", { class: "hdetail-note" }, icon("alert"), gone ? "This run is no longer in the history (only the newest runs are kept)." : `Could not load this run: ${error.message}`),
      );
    }
  }

  detail(entry) {
    const logs = Array.isArray(entry.logs) ? entry.logs : [];
    const runId = String(entry.run_id ?? "");
    const meta = h(
      "div",
      { class: "hdetail-meta" },
      h("button", { class: "fn-id", type: "button", title: `Copy run ID ${runId}`, onclick: () => this.onCopy?.(runId) }, h("span", { class: "mono" }, `run ${shortId(runId)}`), icon("copy")),
      entry.function_id
        ? h("span", { title: `The version that ran: ${entry.function_id}` }, entry.version ? `v${entry.version} · ` : "function ", h("span", { class: "mono" }, shortId(entry.function_id)))
        : null,
      h("time", { class: "hdetail-time", datetime: String(entry.at ?? ""), title: fullTime(entry.at) }, `started ${dayTime(entry.at)}`),
    );
    const console = h(
      "ol",
      { class: "console hconsole" },
      logs.length ? logs.map((line) => logLine(line)) : h("li", { class: "log-placeholder" }, "No console output"),
    );
    const parts = [meta, h("div", { class: "section-label" }, "Console", logs.length ? h("span", { class: "section-count" }, String(logs.length)) : null), console];
    if (entry.logs_truncated) {
      parts.push(h("p", { class: "hdetail-note" }, icon("alert"), `Only the first ${logs.length} lines were kept in the history; the live tail shows every line.`));
    }
    if (entry.error) {
      parts.push(h("div", { class: "section-label" }, "Error"), errorCard(entry.error));
    } else if (!entry.ok && entry.error_code) {
      parts.push(h("div", { class: "section-label" }, "Error"), errorCard({ code: entry.error_code, message: "" }));
    }
    return parts;
  }
}
