// The Live tail pane: every log line of every run of the open function, from anywhere.

import { h, icon, isNearBottom } from "./dom.js";
import { shortId } from "./format.js";
import { logLine } from "./views.js";

const MAX_LINES = 1000;

export class TailView {
  constructor(els, { onCopy }) {
    this.els = els;
    this.onCopy = onCopy;
    this.paused = false;
    this.buffer = [];
    this.unread = 0;
    this.visible = false;
    this.fn = null;
    els.pause.addEventListener("click", () => this.setPaused(!this.paused));
    els.clear.addEventListener("click", () => this.clear());
    this.setState("idle");
  }

  setFunction(fn) {
    this.fn = fn;
    this.buffer = [];
    this.setPaused(false);
    this.clear();
    if (!fn) this.setState("idle");
  }

  clear() {
    this.els.list.replaceChildren();
    this.unread = 0;
    this.renderUnread();
    this.renderEmpty();
  }

  renderEmpty() {
    const { empty, list } = this.els;
    const hasLines = list.childElementCount > 0;
    empty.hidden = hasLines;
    if (hasLines) return;
    if (!this.fn) {
      empty.replaceChildren(
        h("div", { class: "empty-icon" }, icon("radio")),
        h("p", { class: "empty-title" }, "Nothing to tail yet"),
        h("p", null, "Deploy a function or open one from the list to watch its logs live."),
      );
      return;
    }
    const command = `curl -X POST ${location.origin}/execute/${this.fn.name ?? this.fn.id}`;
    empty.replaceChildren(
      h("div", { class: "empty-icon live" }, icon("radio")),
      h("p", { class: "empty-title" }, "Waiting for logs…"),
      h("p", null, "Every run of this function shows up here as it happens: from this page, from ", h("code", null, "vortex run"), ", or from curl:"),
      h(
        "div",
        { class: "snippet" },
        h("code", null, command),
        h("button", { class: "btn btn-xs btn-ghost", type: "button", onclick: () => this.onCopy?.(command) }, icon("copy"), "Copy"),
      ),
    );
  }

  setPaused(paused) {
    this.paused = paused;
    this.els.pause.setAttribute("aria-pressed", String(paused));
    this.els.pause.textContent = paused ? `Resume${this.buffer.length ? ` (${this.buffer.length})` : ""}` : "Pause";
    if (!paused && this.buffer.length) {
      const lines = this.buffer;
      this.buffer = [];
      lines.forEach((line) => this.add(line));
    }
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible) {
      this.unread = 0;
      this.renderUnread();
      const { scroll } = this.els;
      scroll.scrollTop = scroll.scrollHeight;
    }
  }

  renderUnread() {
    const { unread } = this.els;
    unread.hidden = this.unread === 0;
    unread.textContent = this.unread > 99 ? "99+" : String(this.unread);
  }

  add(line) {
    if (this.paused) {
      this.buffer.push(line);
      if (this.buffer.length > MAX_LINES) this.buffer.shift();
      this.els.pause.textContent = `Resume (${this.buffer.length})`;
      return;
    }
    const { list, scroll } = this.els;
    const stick = isNearBottom(scroll);
    const previous = list.lastElementChild;
    const row = logLine(line, { showRun: true });
    if (previous && previous.dataset.run !== String(line.run_id)) row.classList.add("run-start");
    row.dataset.run = String(line.run_id ?? "");
    list.append(row);
    while (list.childElementCount > MAX_LINES) list.firstElementChild.remove();
    this.els.empty.hidden = true;
    if (stick) scroll.scrollTop = scroll.scrollHeight;
    if (!this.visible) {
      this.unread += 1;
      this.renderUnread();
    }
  }

  setState(state, extra = {}) {
    const { status, dot } = this.els;
    status.dataset.state = state;
    dot.dataset.state = state;
    const name = this.fn ? this.fn.name ?? this.fn.filename ?? "index.js" : "";
    const parts = {
      idle: [h("span", { class: "status-label muted" }, "No function open")],
      connecting: [h("span", { class: "spinner small" }), h("span", { class: "status-label" }, "Connecting…")],
      live: [
        h("span", { class: "pulse" }),
        h("span", { class: "status-label" }, "Live"),
        h("span", { class: "status-chip mono" }, name),
        this.fn?.name
          ? h("span", { class: "status-chip", title: "A tail by name follows every version" }, "all versions")
          : h("span", { class: "status-chip mono", title: this.fn?.id ?? "" }, shortId(this.fn?.id)),
      ],
      reconnecting: [
        h("span", { class: "spinner small" }),
        h("span", { class: "status-label" }, "Reconnecting…"),
        h("span", { class: "status-chip" }, extra.retryInMs > 0 ? `retry in ${Math.ceil(extra.retryInMs / 1000)}s` : "connecting"),
      ],
      gone: [h("span", { class: "status-icon" }, icon("x")), h("span", { class: "status-label" }, "This function no longer exists")],
      stopped: [h("span", { class: "status-label muted" }, "Stopped")],
    }[state] ?? [];
    // Pause and Clear sit in the status bar, with the state they act on (not in the tab bar,
    // where four tabs leave no room on a phone).
    status.replaceChildren(...parts, h("span", { class: "status-spacer" }));
    if (this.fn) status.append(this.els.tools);
    else this.els.tools.remove();
  }
}
