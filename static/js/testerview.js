// The Request pane: send a request to the open function's URL on the functions listener and see
// the response. The server sends it (POST /functions/{ref}/request): the function is another
// origin, which this page's CSP does not let it reach, and must not be reached with its key.

import { api, ApiError } from "./api.js";
import { h, icon } from "./dom.js";
import { formatBytes, formatMs } from "./format.js";
import { refOf } from "./historyview.js";
import { jsonFragment } from "./views.js";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const WITHOUT_BODY = new Set(["GET", "HEAD"]);

function statusClass(status) {
  if (status >= 500) return "s5";
  if (status >= 400) return "s4";
  if (status >= 300) return "s3";
  return "s2";
}

export class TesterView {
  constructor(els, { onCopy }) {
    this.els = els; // {status, body}
    this.onCopy = onCopy;
    this.fn = null;
    this.drafts = new Map(); // ref -> {method, path, headers, body, response}
    this.busy = false;
    this.build();
    this.render();
  }

  build() {
    this.url = h("span", { class: "tester-url mono", id: "tester-url" });
    this.copyButton = h("button", { class: "btn btn-xs btn-ghost", id: "tester-copy", type: "button", title: "Copy the URL", onclick: () => this.copyUrl() }, icon("copy"), "Copy");
    this.openLink = h("a", { class: "btn btn-xs btn-ghost", id: "tester-open", target: "_blank", rel: "noopener noreferrer", title: "Open in a new tab" }, icon("globe"), "Open");
    this.method = h("select", { class: "tester-method", id: "tester-method", "aria-label": "Method" }, METHODS.map((m) => h("option", { value: m }, m)));
    this.path = h("input", { class: "tester-path mono", id: "tester-path", value: "/", spellcheck: "false", autocomplete: "off", "aria-label": "Path and query", placeholder: "/path?query" });
    this.send = h("button", { class: "btn btn-primary btn-sm", id: "tester-send", type: "submit" }, icon("bolt"), h("span", null, "Send"));
    this.headerRows = h("div", { class: "tester-headers", id: "tester-headers" });
    this.addHeader = h("button", { class: "btn btn-xs btn-ghost", id: "tester-add-header", type: "button", onclick: () => this.headerRow("", "", true) }, "+ Header");
    this.bodyField = h("textarea", { class: "tester-body mono", id: "tester-body", spellcheck: "false", rows: "5", "aria-label": "Request body", placeholder: '{"hello": "world"}' });
    this.bodySection = h("div", { class: "tester-section" }, h("div", { class: "section-label" }, "Body"), this.bodyField);
    this.form = h(
      "form",
      { class: "tester-form", id: "tester-form", novalidate: true },
      h("div", { class: "tester-line" }, this.method, this.path, this.send),
      h("div", { class: "tester-section" }, h("div", { class: "section-label" }, "Headers", this.addHeader), this.headerRows),
      this.bodySection,
    );
    this.result = h("div", { class: "tester-result", id: "tester-result", "aria-live": "polite" });
    this.els.body.replaceChildren(this.form, this.result);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.method.addEventListener("change", () => {
      this.bodySection.hidden = WITHOUT_BODY.has(this.method.value);
      this.saveDraft();
    });
    this.path.addEventListener("input", () => this.saveDraft());
    this.bodyField.addEventListener("input", () => this.saveDraft());
    this.path.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.submit();
      }
    });
  }

  headerRow(name, value, focus = false) {
    const nameField = h("input", { class: "mono", value: name, placeholder: "Header", spellcheck: "false", autocomplete: "off", "aria-label": "Header name" });
    const valueField = h("input", { class: "mono", value, placeholder: "value", spellcheck: "false", autocomplete: "off", "aria-label": "Header value" });
    const row = h("div", { class: "tester-header" }, nameField, valueField);
    row.append(h("button", { class: "btn btn-xs btn-ghost btn-icon", type: "button", title: "Remove this header", "aria-label": "Remove this header", onclick: () => {
      row.remove();
      this.saveDraft();
    } }, icon("x")));
    nameField.addEventListener("input", () => this.saveDraft());
    valueField.addEventListener("input", () => this.saveDraft());
    this.headerRows.append(row);
    if (focus) nameField.focus();
    return row;
  }

  headers() {
    return [...this.headerRows.querySelectorAll(".tester-header")]
      .map((row) => [...row.querySelectorAll("input")].map((input) => input.value))
      .filter(([name]) => name.trim())
      .map(([name, value]) => [name.trim(), value]);
  }

  saveDraft() {
    const ref = refOf(this.fn);
    if (!ref) return;
    const draft = this.drafts.get(ref) ?? {};
    Object.assign(draft, { method: this.method.value, path: this.path.value, headers: this.headers(), body: this.bodyField.value });
    this.drafts.set(ref, draft);
  }

  setFunction(fn) {
    const same = refOf(fn) === refOf(this.fn);
    this.fn = fn;
    if (same) {
      this.renderUrl();
      return;
    }
    const draft = this.drafts.get(refOf(fn)) ?? { method: "GET", path: "/", headers: [], body: "", response: null };
    this.method.value = draft.method;
    this.path.value = draft.path;
    this.bodyField.value = draft.body;
    this.headerRows.replaceChildren();
    for (const [name, value] of draft.headers) this.headerRow(name, value);
    this.bodySection.hidden = WITHOUT_BODY.has(draft.method);
    this.render();
    if (draft.response) this.showResponse(draft.response);
    else this.result.replaceChildren();
  }

  copyUrl() {
    const url = this.fn?.url;
    if (url) this.onCopy?.(url);
  }

  renderUrl() {
    const url = this.fn?.url ?? null;
    this.url.textContent = url ?? "The functions listener is off on this server";
    this.url.classList.toggle("muted", !url);
    this.copyButton.hidden = !url;
    this.openLink.hidden = !url;
    if (url) this.openLink.setAttribute("href", url);
  }

  render() {
    this.renderUrl();
    this.els.status.replaceChildren(h("span", { class: "tester-url-label" }, icon("globe")), this.url, h("span", { class: "status-spacer" }), this.copyButton, this.openLink);
    const off = !this.fn?.url;
    for (const el of [this.method, this.path, this.send, this.bodyField, this.addHeader]) el.disabled = off || this.busy;
    this.send.querySelector("span").textContent = this.busy ? "Sending…" : "Send";
  }

  async submit() {
    const fn = this.fn;
    const ref = refOf(fn);
    if (!ref || this.busy || !fn.url) return;
    let path = this.path.value.trim() || "/";
    if (!path.startsWith("/")) path = `/${path}`;
    this.path.value = path;
    this.saveDraft();
    const method = this.method.value;
    this.busy = true;
    this.render();
    this.result.replaceChildren(h("div", { class: "tester-pending" }, h("span", { class: "spinner small" }), `${method} ${path}…`));
    try {
      const response = await api.sendRequest(ref, { method, path, headers: this.headers(), body: WITHOUT_BODY.has(method) ? null : this.bodyField.value });
      if (refOf(this.fn) !== ref) return;
      this.drafts.get(ref).response = response;
      this.showResponse(response);
    } catch (error) {
      if (refOf(this.fn) !== ref) return;
      const problem = error instanceof ApiError ? `${error.message} (${error.code})` : error.message;
      this.drafts.get(ref).response = null;
      this.result.replaceChildren(h("div", { class: "tester-error", role: "alert" }, icon("alert"), h("span", null, problem)));
    } finally {
      this.busy = false;
      this.render();
    }
  }

  showResponse(response) {
    const headers = Array.isArray(response.headers) ? response.headers : [];
    const contentType = (headers.find(([name]) => name.toLowerCase() === "content-type") ?? [])[1] ?? "";
    let bodyView;
    if (typeof response.body === "string") {
      let parsed;
      let isJson = false;
      if (/json/i.test(contentType) || /^\s*[[{]/.test(response.body)) {
        try {
          parsed = JSON.parse(response.body);
          isJson = true;
        } catch {
          // shown as the text it is
        }
      }
      bodyView = h("pre", { class: `json tester-response-body${isJson ? "" : " plain"}`, id: "tester-response-body" }, isJson ? jsonFragment(parsed) : response.body || "(empty body)");
    } else {
      bodyView = h("div", { class: "pane-note", id: "tester-response-body" }, `Binary body (${formatBytes(response.body_bytes)}); its first bytes in base64:`, h("pre", { class: "tester-response-body plain" }, String(response.body_base64 ?? "").slice(0, 4096)));
    }
    const timing = response.timing ?? {};
    this.result.replaceChildren(
      h(
        "div",
        { class: "tester-summary" },
        h("span", { class: `tester-status ${statusClass(response.status)}`, id: "tester-status" }, `${response.status} ${response.reason ?? ""}`.trim()),
        h("span", { class: "status-chip", title: "Until the response's headers arrived" }, icon("clock"), `headers ${formatMs(timing.headers_ms)}`),
        h("span", { class: "status-chip", id: "tester-total", title: "Until the body ended" }, `total ${formatMs(timing.total_ms)}`),
        h("span", { class: "status-chip", title: "Body size" }, formatBytes(response.body_bytes)),
        response.body_truncated ? h("span", { class: "status-chip fail" }, "first MiB shown") : null,
      ),
      h("div", { class: "section-label" }, "Body"),
      bodyView,
      h("div", { class: "section-label" }, "Headers ", h("span", { class: "section-count" }, String(headers.length))),
      h("dl", { class: "tester-response-headers", id: "tester-response-headers" }, headers.flatMap(([name, value]) => [h("dt", { class: "mono" }, name), h("dd", { class: "mono" }, value)])),
    );
  }
}
