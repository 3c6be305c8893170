// The KV pane: the keys of the open function's KV store (what its runs see as env.KV), a value
// to read, edit or delete, and new keys, within the limits the server says.

import { api, ApiError } from "./api.js";
import { h, icon } from "./dom.js";
import { formatBytes, fullTime } from "./format.js";
import { refOf } from "./historyview.js";

const PAGE = 100;
const encoder = new TextEncoder();

function expires(seconds) {
  if (!seconds) return "";
  const at = seconds * 1000;
  const left = at - Date.now();
  if (left <= 0) return "expired";
  const s = Math.round(left / 1000);
  if (s < 90) return `expires in ${s}s`;
  if (s < 90 * 60) return `expires in ${Math.round(s / 60)}m`;
  if (s < 48 * 3600) return `expires in ${Math.round(s / 3600)}h`;
  return `expires in ${Math.round(s / 86400)}d`;
}

export class KvView {
  constructor(els, { onToast }) {
    this.els = els; // {status, body}
    this.onToast = onToast;
    this.fn = null;
    this.keys = null;
    this.cursor = null;
    this.limits = null;
    this.error = null;
    this.prefix = "";
    this.open = null; // the key being edited: {name, value, loaded, isNew}
    this.visible = false;
    this.seq = 0;
    this.build();
    this.render();
  }

  build() {
    this.search = h("input", { type: "search", class: "kv-search mono", id: "kv-prefix", placeholder: "Filter by prefix", spellcheck: "false", autocomplete: "off", "aria-label": "Keys starting with" });
    this.newButton = h("button", { class: "btn btn-xs btn-secondary", id: "kv-new", type: "button", onclick: () => this.edit({ name: "", value: "", loaded: true, isNew: true }) }, icon("key"), "New key");
    this.refreshButton = h("button", { class: "btn btn-xs btn-ghost refresh-btn", id: "kv-refresh", type: "button", title: "Refresh the keys", onclick: () => this.refresh() }, icon("refresh"), "Refresh");
    this.list = h("ul", { class: "kv-list", id: "kv-list", "aria-label": "Keys" });
    this.more = h("button", { class: "btn btn-sm btn-ghost", id: "kv-more", type: "button", hidden: true, onclick: () => this.loadMore() }, "More keys");
    this.empty = h("div", { class: "empty-state", hidden: true });
    this.editor = h("div", { class: "kv-editor", id: "kv-editor", hidden: true });
    this.limitsNote = h("p", { class: "pane-note kv-limits", id: "kv-limits" });
    this.els.body.replaceChildren(h("div", { class: "kv-toolbar" }, this.search, this.newButton), this.editor, this.list, this.more, this.empty, this.limitsNote);
    let timer = null;
    this.search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (this.search.value === this.prefix) return;
        this.prefix = this.search.value;
        this.keys = null;
        this.refresh();
      }, 200);
    });
  }

  setFunction(fn) {
    if (refOf(fn) === refOf(this.fn)) {
      this.fn = fn;
      return;
    }
    this.fn = fn;
    this.keys = null;
    this.cursor = null;
    this.error = null;
    this.open = null;
    this.prefix = "";
    this.search.value = "";
    this.seq += 1;
    this.render();
    if (fn && this.visible) this.refresh();
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible) this.refresh();
  }

  async refresh() {
    const ref = refOf(this.fn);
    if (!ref) return;
    const seq = ++this.seq;
    this.refreshButton.classList.add("spinning");
    try {
      const page = await api.kvList(ref, { prefix: this.prefix, limit: PAGE });
      if (seq !== this.seq) return;
      this.keys = page.keys ?? [];
      this.cursor = page.list_complete ? null : page.cursor;
      this.limits = page.limits ?? this.limits;
      this.error = null;
    } catch (error) {
      if (seq !== this.seq) return;
      this.error = error;
    } finally {
      if (seq === this.seq) this.refreshButton.classList.remove("spinning");
    }
    this.render();
  }

  async loadMore() {
    const ref = refOf(this.fn);
    if (!ref || !this.cursor) return;
    const seq = this.seq;
    try {
      const page = await api.kvList(ref, { prefix: this.prefix, cursor: this.cursor, limit: PAGE });
      if (seq !== this.seq) return;
      this.keys = this.keys.concat(page.keys ?? []);
      this.cursor = page.list_complete ? null : page.cursor;
    } catch (error) {
      this.onToast?.("Could not list more keys", { kind: "error", detail: error.message });
    }
    this.render();
  }

  render() {
    const { status } = this.els;
    const fn = this.fn;
    const keys = this.keys;
    const chips = [];
    if (!fn) chips.push(h("span", { class: "status-label muted" }, "No function open"));
    else if (keys === null && this.error) chips.push(h("span", { class: "status-chip fail", title: this.error.message }, icon("x"), "Could not list the keys"));
    else if (keys === null) chips.push(h("span", { class: "spinner small" }), h("span", { class: "status-label muted" }, "Loading keys…"));
    else chips.push(h("span", { class: "status-label", id: "kv-count" }, `${keys.length}${this.cursor ? "+" : ""} ${keys.length === 1 ? "key" : "keys"}${this.prefix ? ` starting with “${this.prefix}”` : ""}`));
    status.replaceChildren(...chips, h("span", { class: "status-spacer" }), this.newButton, this.refreshButton);
    this.newButton.disabled = !fn;
    const limits = this.limits;
    this.limitsNote.hidden = !limits;
    if (limits) {
      this.limitsNote.replaceChildren(
        icon("alert"),
        ` Limits: keys up to ${formatBytes(limits.max_key_bytes)}, values up to ${formatBytes(limits.max_value_bytes)} (text or bytes), ${limits.max_list_limit} keys a page. A named function's versions share these keys; its runs see them as `,
        h("code", null, "env.KV"),
        ".",
      );
    }
    this.more.hidden = !this.cursor;
    this.empty.hidden = !(keys && keys.length === 0);
    if (keys && keys.length === 0) {
      this.empty.replaceChildren(
        h("div", { class: "empty-icon" }, icon("key")),
        h("p", { class: "empty-title" }, this.prefix ? "No key starts with that" : "No keys yet"),
        h("p", null, "Keys the function puts with ", h("code", null, "env.KV.put"), " appear here; add one with New key."),
      );
    }
    this.list.replaceChildren(
      ...(keys ?? []).map((key) =>
        h(
          "li",
          null,
          h(
            "button",
            { class: "kv-item", type: "button", "aria-current": this.open?.name === key.name ? "true" : null, dataset: { key: key.name }, onclick: () => this.openKey(key.name) },
            h("span", { class: "kv-name mono" }, key.name),
            key.expiration ? h("span", { class: "kv-exp", title: `Expires ${fullTime(new Date(key.expiration * 1000).toISOString())}` }, expires(key.expiration)) : null,
            icon("chevron"),
          ),
        ),
      ),
    );
  }

  async openKey(name) {
    const ref = refOf(this.fn);
    this.edit({ name, value: "", loaded: false, isNew: false });
    try {
      const got = await api.kvGet(ref, name);
      if (this.open?.name !== name || refOf(this.fn) !== ref) return;
      // Bytes that are not UTF-8 come as base64 and are saved back as such; metadata (put by the
      // function) is kept, since a put without it would drop it.
      this.edit({ name, value: got.value, loaded: true, isNew: false, binary: got.encoding === "base64", metadata: got.metadata ?? null });
    } catch (error) {
      if (this.open?.name !== name) return;
      const gone = error instanceof ApiError && error.code === "kv_key_not_found";
      this.edit(null);
      this.onToast?.(gone ? "That key is gone" : "Could not read the key", { kind: "error", detail: gone ? `${name} expired or was deleted` : error.message });
      if (gone) this.refresh();
    }
  }

  edit(open) {
    this.open = open;
    this.render();
    const box = this.editor;
    if (!open) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    box.hidden = false;
    const limits = this.limits ?? { max_key_bytes: 512, max_value_bytes: 131072 };
    const keyField = h("input", { class: "mono", id: "kv-key", value: open.name, spellcheck: "false", autocomplete: "off", "aria-label": "Key", placeholder: "user:42", readonly: open.isNew ? null : true });
    const valueField = h("textarea", { class: "mono", id: "kv-value", spellcheck: "false", rows: "6", "aria-label": "Value", disabled: !open.loaded });
    valueField.value = open.loaded ? open.value : "Loading…";
    const ttlField = h("input", { class: "mono kv-ttl", id: "kv-ttl", type: "number", min: "1", step: "1", placeholder: "never", "aria-label": "Expires after (seconds)" });
    // A key that expires keeps expiring when saved again (a put without an expiry would make
    // it permanent): the time it has left is filled in.
    const listed = (this.keys ?? []).find((key) => key.name === open.name);
    if (!open.isNew && listed?.expiration) ttlField.value = String(Math.max(1, Math.round(listed.expiration - Date.now() / 1000)));
    const size = h("span", { class: "kv-size", id: "kv-size" });
    const problem = h("p", { class: "field-error", role: "alert", hidden: true });
    const measure = () => {
      const bytes = open.binary ? Math.floor((valueField.value.replace(/=+$/, "").length * 3) / 4) : encoder.encode(valueField.value).length;
      const keyBytes = encoder.encode(keyField.value).length;
      size.textContent = `${formatBytes(bytes)} of ${formatBytes(limits.max_value_bytes)}`;
      const over = bytes > limits.max_value_bytes || keyBytes > limits.max_key_bytes;
      size.classList.toggle("over", over);
      save.disabled = !open.loaded || over || !keyField.value;
    };
    const save = h("button", { class: "btn btn-sm btn-primary", id: "kv-save", type: "button" }, "Save");
    const remove = h("button", { class: "btn btn-sm btn-ghost btn-danger", id: "kv-delete", type: "button", hidden: open.isNew }, icon("x"), h("span", { class: "confirm-label" }, "Delete?"), h("span", { class: "plain-label" }, "Delete"));
    const close = h("button", { class: "btn btn-sm btn-ghost", type: "button", onclick: () => this.edit(null) }, "Close");
    save.addEventListener("click", async () => {
      const name = keyField.value;
      const ttl = Number(ttlField.value) || 0;
      save.disabled = true;
      try {
        const extra = { ...(open.binary ? { encoding: "base64" } : {}), ...(open.metadata !== null && open.metadata !== undefined ? { metadata: open.metadata } : {}) };
        await api.kvPut(refOf(this.fn), name, valueField.value, ttl > 0 ? ttl : undefined, extra);
        problem.hidden = true;
        this.onToast?.(`Saved ${name}`, { detail: ttl > 0 ? `Expires in ${ttl} s` : "Kept until deleted" });
        this.open = { name, value: valueField.value, loaded: true, isNew: false, binary: open.binary, metadata: open.metadata };
        this.edit(this.open);
        this.refresh();
      } catch (error) {
        problem.textContent = error.message;
        problem.hidden = false;
        save.disabled = false;
      }
    });
    let confirmTimer = null;
    remove.addEventListener("click", async () => {
      if (!remove.classList.contains("confirming")) {
        remove.classList.add("confirming");
        confirmTimer = setTimeout(() => remove.classList.remove("confirming"), 4000);
        return;
      }
      clearTimeout(confirmTimer);
      try {
        await api.kvDelete(refOf(this.fn), open.name);
        this.onToast?.(`Deleted ${open.name}`, { kind: "info" });
        this.edit(null);
        this.refresh();
      } catch (error) {
        problem.textContent = error.message;
        problem.hidden = false;
      }
    });
    keyField.addEventListener("input", measure);
    valueField.addEventListener("input", measure);
    box.replaceChildren(
      h("div", { class: "kv-editor-head" }, h("span", { class: "section-label" }, open.isNew ? "New key" : open.binary ? "Key (binary value, as base64)" : "Key"), keyField),
      valueField,
      h("div", { class: "kv-editor-foot" }, size, h("label", { class: "kv-ttl-label" }, "Expires after ", ttlField, " s"), h("span", { class: "status-spacer" }), remove, close, save),
      problem,
    );
    measure();
    (open.isNew ? keyField : valueField).focus();
  }
}
