// Rendering of log lines, JSON values and run errors. Text only ever enters as text nodes.

import { h, icon } from "./dom.js";
import { clockTime, hueOf, shortId } from "./format.js";

const LEVELS = new Set(["log", "info", "warn", "error", "debug"]);

/** One console line: time, level, message (and, in the tail, the run it belongs to). */
export function logLine(line, { showRun = false } = {}) {
  const level = LEVELS.has(line.level) ? line.level : "log";
  const row = h("li", { class: `log log-${level}`, dataset: { level } });
  row.append(
    h("time", { class: "log-time", datetime: String(line.timestamp ?? ""), title: String(line.timestamp ?? "") }, clockTime(line.timestamp)),
  );
  if (showRun) {
    const runId = String(line.run_id ?? "");
    const tag = h("span", { class: "run-tag", title: `run ${runId}` }, shortId(runId) || "—");
    tag.style.setProperty("--hue", String(hueOf(runId)));
    row.append(tag);
  }
  row.append(h("span", { class: "log-level" }, level), h("span", { class: "log-msg" }, String(line.message ?? "")));
  return row;
}

const JSON_TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

/** Pretty JSON with coloured keys, strings, numbers and literals. */
export function jsonFragment(value) {
  const text = JSON.stringify(value, null, 2) ?? "undefined";
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(JSON_TOKEN)) {
    if (match.index > last) fragment.append(text.slice(last, match.index));
    const [whole, string, colon, literal, number] = match;
    if (string && colon) {
      fragment.append(h("span", { class: "j-key" }, string), colon);
    } else if (string) fragment.append(h("span", { class: "j-string" }, string));
    else if (literal) fragment.append(h("span", { class: `j-${literal === "null" ? "null" : "bool"}` }, literal));
    else if (number) fragment.append(h("span", { class: "j-number" }, number));
    else fragment.append(whole);
    last = match.index + whole.length;
  }
  if (last < text.length) fragment.append(text.slice(last));
  return fragment;
}

const ERROR_TITLES = {
  function_error: null, // the function's own error: its name and message say it
  cpu_time_exceeded: "CPU time limit exceeded",
  wall_time_exceeded: "Time limit exceeded",
  memory_limit_exceeded: "Memory limit exceeded",
  output_too_large: "Return value too large",
  invalid_return_value: "Return value is not JSON",
  log_limit_exceeded: "Too much console output",
  timer_limit_exceeded: "Too many timers",
  host_restarted: "Run interrupted",
  host_crashed: "Isolate host crashed",
  function_not_found: "Function not found",
  pool_unavailable: "No isolates available",
  storage_unavailable: "Storage unavailable",
  network: "Server unreachable",
};

const FRAME = /([\w.-]+\.[cm]?js):(\d+):(\d+)/g;

/**
 * An error card: title (name + message, or a plain title for platform errors), the code,
 * and the stack, with file:line:column references that jump to the editor when `onFrame` is set.
 */
export function errorCard(error, { onFrame, filename } = {}) {
  const code = String(error.code ?? "error");
  const name = String(error.name ?? "Error");
  const message = String(error.message ?? "");
  const plain = ERROR_TITLES[code];
  const title = plain ?? `${name}${message ? ": " : ""}${message}`;
  const card = h("div", { class: "error-card", role: "alert", dataset: { code } });
  card.append(
    h(
      "div",
      { class: "error-head" },
      icon("alert", "icon error-icon"),
      h(
        "div",
        { class: "error-title-wrap" },
        h("div", { class: "error-title" }, plain ? title : [h("span", { class: "error-name" }, name), message ? `: ${message}` : ""]),
        plain && message ? h("div", { class: "error-message" }, message) : null,
      ),
      h("span", { class: "error-code" }, code),
    ),
  );
  const stack = typeof error.stack === "string" ? error.stack.trim() : "";
  if (stack) {
    const pre = h("pre", { class: "error-stack" });
    let last = 0;
    for (const match of stack.matchAll(FRAME)) {
      if (match.index > last) pre.append(stack.slice(last, match.index));
      const [text, file, line, column] = match;
      if (onFrame && (!filename || file === filename)) {
        pre.append(
          h("button", { class: "frame-link", type: "button", title: "Show in editor", onclick: () => onFrame(Number(line), Number(column)) }, text),
        );
      } else pre.append(text);
      last = match.index + text.length;
    }
    if (last < stack.length) pre.append(stack.slice(last));
    card.append(pre);
  }
  return card;
}

/** The first line:column of `filename` in a stack, for marking the line that threw. */
export function firstFrame(stack, filename) {
  if (typeof stack !== "string") return null;
  for (const match of stack.matchAll(FRAME)) {
    if (!filename || match[1] === filename) return { line: Number(match[2]), column: Number(match[3]) };
  }
  return null;
}
