// The Versions pane of a named function: every version, which one is active, and a rollback (or
// roll forward) to any other, confirmed in place. A rollback only moves the name's pointer.

import { api } from "./api.js";
import { h, icon } from "./dom.js";
import { fullTime, relativeTime, shortId } from "./format.js";
import { highlight } from "./highlight.js";

export class VersionsView {
  constructor(els, { onCopy, onSwitched }) {
    this.els = els;
    this.onCopy = onCopy;
    this.onSwitched = onSwitched;
    this.name = null;
    this.pointer = null;
    this.error = null;
    this.confirming = null; // the version number waiting for a confirmation
    this.switching = null; // the version number being activated
    this.flash = null;
    this.seq = 0;
    this.codeOpen = new Set(); // version numbers whose code is shown
    this.code = new Map(); // function id -> {code} | {error}; versions are immutable
    els.refresh.addEventListener("click", () => this.refresh());
    this.render();
  }

  setFunction(fn) {
    const name = fn?.name ?? null;
    if (name === this.name) return;
    this.name = name;
    this.pointer = null;
    this.error = null;
    this.confirming = null;
    this.codeOpen.clear();
    this.seq += 1;
    this.render();
  }

  async toggleCode(version) {
    const number = Number(version.version);
    const id = String(version.function_id);
    if (this.codeOpen.has(number)) this.codeOpen.delete(number);
    else {
      this.codeOpen.add(number);
      if (this.code.get(id)?.error) this.code.delete(id); // a failed load is tried again
    }
    this.render();
    if (!this.codeOpen.has(number) || this.code.has(id)) return;
    const name = this.name;
    try {
      const record = await api.getFunction(id);
      this.code.set(id, { code: String(record.code ?? ""), filename: String(record.entry ?? record.filename ?? "") });
    } catch (error) {
      this.code.set(id, { error: error.message });
    }
    if (name === this.name) this.render();
  }

  async refresh() {
    const name = this.name;
    if (!name) return;
    const seq = ++this.seq;
    this.els.refresh.classList.add("spinning");
    try {
      const pointer = await api.versions(name);
      if (seq !== this.seq) return;
      this.pointer = pointer;
      this.error = null;
    } catch (error) {
      if (seq !== this.seq) return;
      this.error = error;
    } finally {
      if (seq === this.seq) this.els.refresh.classList.remove("spinning");
    }
    this.render();
  }

  /** A pointer that came from elsewhere (a deploy made here): no need to ask the server. */
  show(pointer) {
    if (pointer?.name !== this.name) return;
    this.seq += 1;
    this.pointer = pointer;
    this.error = null;
    this.render();
  }

  async activate(version) {
    const name = this.name;
    const from = this.pointer?.active;
    this.switching = version;
    this.render();
    try {
      const pointer = await api.rollback(name, version);
      if (name !== this.name) return;
      this.seq += 1;
      this.pointer = pointer;
      this.confirming = null;
      this.flash = version;
      this.onSwitched?.(pointer, from);
    } catch (error) {
      if (name !== this.name) return;
      this.error = error;
    } finally {
      this.switching = null;
      if (name === this.name) this.render();
    }
  }

  render() {
    const { status, list, empty } = this.els;
    const pointer = this.pointer;
    this.els.note.hidden = true;
    if (!this.name) {
      this.status(h("span", { class: "status-label muted" }, "No named function open"));
      list.replaceChildren();
      empty.hidden = false;
      return;
    }
    if (!pointer) {
      list.replaceChildren();
      if (this.error) {
        this.status(h("span", { class: "status-icon" }, icon("x")), h("span", { class: "status-label" }, "Could not load the versions"));
        empty.replaceChildren(h("div", { class: "empty-icon" }, icon("alert")), h("p", { class: "empty-title" }, "Versions unavailable"), h("p", null, this.error.message));
        empty.hidden = false;
      } else {
        this.status(h("span", { class: "spinner small" }), h("span", { class: "status-label muted" }, "Loading versions…"));
        empty.hidden = true;
      }
      return;
    }
    empty.hidden = true;
    const versions = Array.isArray(pointer.versions) ? pointer.versions : [];
    this.status(
      h("span", { class: "status-chip mono name-chip" }, pointer.name),
      h("span", { class: "status-label" }, versions.length === 1 ? "1 version" : `${versions.length} versions`),
      h("span", { class: "status-chip ok" }, icon("check"), `v${pointer.active} active`),
      this.error ? h("span", { class: "status-chip fail", title: this.error.message }, this.error.message) : null,
    );
    const now = Date.now();
    list.replaceChildren(...versions.map((version) => this.row(version, pointer, now)));
    this.els.note.replaceChildren(
      "Every deploy of ",
      h("span", { class: "mono" }, pointer.name),
      " adds a version and makes it active. Switching versions only moves which one runs: nothing is rebuilt, and the old version stays reachable by its function ID.",
    );
    this.els.note.hidden = false;
    if (this.flash !== null) {
      list.querySelector(`[data-version="${this.flash}"]`)?.classList.add("flash");
      this.flash = null;
    }
  }

  status(...children) {
    this.els.status.replaceChildren(...children.filter(Boolean), h("span", { class: "status-spacer" }), this.els.refresh);
  }

  row(version, pointer, now) {
    const number = Number(version.version);
    const active = number === pointer.active;
    const older = number < pointer.active;
    const busy = this.switching !== null;
    const verb = older ? "Roll back" : "Roll forward";
    const item = h("li", { class: "vrow", dataset: { version: String(number), active: String(active) } });
    const main = h(
      "div",
      { class: "vmain" },
      h("span", { class: "vnum" }, `v${number}`),
      active ? h("span", { class: "badge", dataset: { kind: "deployed" } }, "Active") : null,
      h(
        "span",
        { class: "vmeta" },
        h("time", { class: "vtime", datetime: String(version.created_at ?? ""), title: fullTime(version.created_at) }, `deployed ${relativeTime(version.created_at, now)}`),
        h("span", { class: "sep" }, "·"),
        h(
          "button",
          { class: "fn-id", type: "button", title: `Copy function ID ${version.function_id}`, onclick: () => this.onCopy?.(String(version.function_id)) },
          h("span", { class: "mono" }, shortId(version.function_id)),
          icon("copy"),
        ),
      ),
    );
    item.append(main);
    const showing = this.codeOpen.has(number);
    const actions = h(
      "div",
      { class: "vactions" },
      h(
        "button",
        {
          class: "btn btn-sm btn-ghost btn-icon vcode-btn",
          type: "button",
          "aria-expanded": String(showing),
          "aria-label": `${showing ? "Hide" : "Show"} the code of v${number}`,
          title: `${showing ? "Hide" : "Show"} the code of v${number}`,
          onclick: () => this.toggleCode(version),
        },
        icon("eye"),
      ),
    );
    item.append(actions);
    if (!active && this.confirming !== number) {
      const action = h(
        "button",
        {
          class: "btn btn-sm btn-secondary vaction",
          type: "button",
          disabled: busy,
          onclick: () => {
            this.confirming = number;
            this.render();
            this.els.list.querySelector(`[data-version="${number}"] .vconfirm .btn-primary`)?.focus();
          },
        },
        icon(older ? "undo" : "redo"),
        verb,
      );
      actions.append(action);
    }
    if (this.confirming === number && !active) {
      const switching = this.switching === number;
      item.append(
        h(
          "div",
          {
            class: "vconfirm",
            role: "group",
            "aria-label": `Confirm: make v${number} active`,
            onkeydown: (event) => {
              if (event.key === "Escape" && !switching) this.cancel(number);
            },
          },
          h(
            "p",
            null,
            h("strong", null, `Make v${number} the active version of `, h("span", { class: "nowrap" }, `${pointer.name}?`)),
            ` New runs — API, HTTP trigger and cron — use it at once. v${pointer.active} stays deployed; you can switch back any time.`,
          ),
          h(
            "div",
            { class: "vconfirm-actions" },
            h("button", { class: "btn btn-sm btn-ghost", type: "button", disabled: switching, onclick: () => this.cancel(number) }, "Cancel"),
            h(
              "button",
              { class: "btn btn-sm btn-primary", type: "button", disabled: switching, onclick: () => this.activate(number) },
              switching ? h("span", { class: "spinner small light" }) : icon(older ? "undo" : "redo"),
              switching ? "Switching…" : `${verb} to v${number}`,
            ),
          ),
        ),
      );
    }
    if (showing) item.append(this.codeBlock(String(version.function_id)));
    return item;
  }

  cancel(number) {
    this.confirming = null;
    this.render();
    this.els.list.querySelector(`[data-version="${number}"] .vaction`)?.focus();
  }

  codeBlock(id) {
    const loaded = this.code.get(id);
    if (!loaded) return h("div", { class: "vcode vcode-note" }, h("span", { class: "spinner small" }), "Loading code…");
    if (loaded.error) return h("div", { class: "vcode vcode-note" }, icon("alert"), `Could not load the code: ${loaded.error}`);
    return h("pre", { class: "vcode", tabindex: "0", "aria-label": `Code of ${loaded.filename}` }, highlight(loaded.code));
  }
}
