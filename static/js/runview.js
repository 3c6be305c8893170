// The Run pane: the status of the current run, its console lines as they stream in, then the
// return value or the error.

import { ApiError } from "./api.js";
import { h, icon, isNearBottom } from "./dom.js";
import { formatMs, relativeTime, shortId } from "./format.js";
import { errorCard, jsonFragment, logLine } from "./views.js";

export class RunView {
  constructor(els, { onFrame, filename }) {
    this.els = els;
    this.onFrame = onFrame;
    this.filename = filename;
    this.timer = null;
    this.count = 0;
    this.output = null;
    els.copy.addEventListener("click", () => this.onCopy?.(this.outputText ?? ""));
  }

  clearTimer() {
    clearInterval(this.timer);
    this.timer = null;
  }

  status(state, ...children) {
    const { status } = this.els;
    status.dataset.state = state;
    status.replaceChildren(...children.flat().filter(Boolean));
  }

  /** Nothing run yet in this session: an invitation, and the last run if the server knows one. */
  idle(fn) {
    this.clearTimer();
    const { empty, consoleSection, result, error } = this.els;
    empty.hidden = false;
    consoleSection.hidden = result.hidden = error.hidden = true;
    const last = fn?.last_run;
    if (last) {
      this.status(
        last.ok ? "last-ok" : "last-fail",
        h("span", { class: "status-label" }, "Last run"),
        h("span", { class: "status-chip", title: String(last.at ?? "") }, relativeTime(last.at)),
        h("span", { class: `status-chip ${last.ok ? "ok" : "fail"}` }, icon(last.ok ? "check" : "x"), last.ok ? "succeeded" : String(last.error_code ?? "failed")),
        h("span", { class: "status-chip" }, icon("clock"), formatMs(last.execution_time_ms)),
      );
    } else {
      this.status("idle", h("span", { class: "status-label muted" }, fn ? "Never run" : "Not deployed yet"));
    }
  }

  start(fn, runId) {
    this.clearTimer();
    this.runId = runId;
    this.count = 0;
    this.outputText = null;
    const { empty, consoleSection, console: list, result, error } = this.els;
    empty.hidden = true;
    result.hidden = error.hidden = true;
    consoleSection.hidden = false;
    list.replaceChildren(h("li", { class: "log-placeholder" }, "Waiting for output…"));
    this.setCount();
    const started = performance.now();
    const elapsed = h("span", { class: "status-chip mono" }, "0.0 s");
    this.status(
      "running",
      h("span", { class: "spinner small" }),
      h("span", { class: "status-label" }, "Running"),
      h("span", { class: "status-chip mono", title: fn.id }, fn.name ? `${fn.name} v${fn.version}` : fn.filename ?? "index.js"),
      elapsed,
      h("span", { class: "status-spacer" }),
      h("span", { class: "status-run mono", title: `run ${runId}` }, `run ${shortId(runId)}`),
    );
    this.timer = setInterval(() => {
      elapsed.textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`;
    }, 100);
  }

  setCount() {
    this.els.count.textContent = this.count ? String(this.count) : "";
  }

  add(line) {
    const { console: list, scroll } = this.els;
    const stick = isNearBottom(scroll);
    list.querySelector(".log-placeholder")?.remove();
    list.append(logLine(line));
    this.count += 1;
    this.setCount();
    if (stick) scroll.scrollTop = scroll.scrollHeight;
  }

  /** The run answered. Lines the stream missed are filled in from the response, in order. */
  finish(result, fn) {
    this.clearTimer();
    const logs = Array.isArray(result.logs) ? result.logs : [];
    const { console: list, result: resultSection, output, error } = this.els;
    if (this.count !== logs.length) {
      list.replaceChildren(...logs.map((line) => logLine(line)));
      this.count = logs.length;
    }
    list.querySelector(".log-placeholder")?.remove();
    if (this.count === 0) list.replaceChildren(h("li", { class: "log-placeholder" }, "No console output"));
    this.setCount();
    const failed = Boolean(result.error);
    const chips = [
      // By name, the server says which version ran: after a rollback it is not the newest.
      result.name && result.version
        ? h("span", { class: "status-chip mono run-version", title: `${result.name}, version ${result.version} · ${result.function_id ?? ""}` }, `v${result.version}`)
        : null,
      h("span", { class: "status-chip", title: "Wall-clock time of the run" }, icon("clock"), formatMs(result.execution_time_ms)),
      typeof result.cpu_time_ms === "number"
        ? h("span", { class: "status-chip", title: "CPU time of the run" }, icon("cpu"), `CPU ${formatMs(result.cpu_time_ms)}`)
        : null,
    ];
    this.status(
      failed ? "failed" : "succeeded",
      h("span", { class: "status-icon" }, icon(failed ? "x" : "check")),
      h("span", { class: "status-label" }, failed ? "Failed" : "Succeeded"),
      ...chips,
      h("span", { class: "status-spacer" }),
      h("span", { class: "status-run mono", title: `run ${result.run_id ?? this.runId}` }, `run ${shortId(result.run_id ?? this.runId)}`),
    );
    if (failed) {
      error.replaceChildren(
        h("div", { class: "section-label" }, "Error"),
        errorCard(result.error, { onFrame: this.onFrame, filename: fn?.filename }),
      );
      error.hidden = false;
    }
    if (!failed || (result.output !== null && result.output !== undefined)) {
      this.outputText = JSON.stringify(result.output ?? null, null, 2);
      output.replaceChildren(jsonFragment(result.output ?? null));
      if (result.output === null || result.output === undefined) {
        output.append(h("span", { class: "j-note" }, "  // nothing given to Vortex.return()"));
      }
      resultSection.hidden = false;
    }
  }

  /** The run could not happen: the server refused it or could not be reached. */
  fail(err) {
    this.clearTimer();
    const { console: list, error } = this.els;
    list.querySelector(".log-placeholder")?.remove();
    if (this.count === 0) this.els.consoleSection.hidden = true;
    const code = err instanceof ApiError ? err.code : "network";
    this.status("failed", h("span", { class: "status-icon" }, icon("x")), h("span", { class: "status-label" }, "Could not run"));
    error.replaceChildren(errorCard({ code, name: err.name, message: err.message, stack: "" }));
    error.hidden = false;
  }
}
