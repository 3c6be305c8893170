// The API key dialog. A server with keys answers 401 without one: the page asks for a key and
// logs in with it (POST /session). The browser keeps a session cookie no script can read, never
// the key: it is in this page's memory only while the request is on its way.

import { api, ApiError, session } from "./api.js";

// A key travels in a header and in a WebSocket subprotocol: both take only token characters.
const TOKEN = /^[A-Za-z0-9._~+\/-]+=*$/;

export class KeyGate {
  constructor(els, { onKey, onForget }) {
    this.els = els;
    this.onKey = onKey;
    this.onForget = onForget;
    this.required = false;
    this.checking = false;
    els.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    els.reveal.addEventListener("click", () => {
      const hidden = els.input.type === "password";
      els.input.type = hidden ? "text" : "password";
      els.reveal.textContent = hidden ? "Hide" : "Show";
      els.reveal.setAttribute("aria-pressed", String(hidden));
    });
    els.cancel.addEventListener("click", () => this.close());
    els.forget.addEventListener("click", async () => {
      try {
        await api.logOut();
      } catch {
        // The server could not be reached: the session ends anyway with its cookie's age or key.
      }
      this.close();
      this.onForget?.();
    });
    els.root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.required) this.close();
    });
    els.input.addEventListener("input", () => this.setError(""));
  }

  get isOpen() {
    return !this.els.root.hidden;
  }

  /**
   * `problem`: the 401/403 that made the page ask (null when the user opened the dialog).
   * Asked again while open, it only updates the message.
   */
  open(problem = null) {
    const { root, title, text, input, cancel, forget } = this.els;
    const saved = session()?.session ? session() : null;
    this.required = problem !== null;
    if (problem?.status === 403) {
      title.textContent = "This key cannot be used here";
      text.textContent = `The server refused it: ${problem.message}. Paste a key made for functions (vortex keys create --namespace NAME).`;
    } else if (problem && saved) {
      title.textContent = "Your session has ended";
      text.textContent = `${problem.message}. Paste a valid key to go on.`;
    } else if (problem && /has no API keys/.test(problem.message)) {
      // A server beyond loopback with no key at all: no key works until the operator makes one.
      title.textContent = "API key required";
      text.textContent = `${problem.message[0].toUpperCase()}${problem.message.slice(1)}.`;
    } else if (problem) {
      title.textContent = "API key required";
      text.textContent = "This Vortex server only answers requests that carry an API key of one of its namespaces.";
    } else {
      const namespace = saved?.namespace;
      title.textContent = "API key";
      text.textContent = saved
        ? `This browser is logged in with a key${namespace ? ` of the namespace ${namespace}` : ""}. Paste another to switch, or log out.`
        : "Paste a key if this server asks for one.";
    }
    cancel.hidden = this.required;
    forget.hidden = !saved;
    if (this.isOpen) return;
    input.value = "";
    this.setError("");
    root.hidden = false;
    // Everything behind the dialog is out of reach of the keyboard and of screen readers.
    this.els.app.inert = true;
    document.body.classList.add("modal-open");
    requestAnimationFrame(() => input.focus());
  }

  close() {
    this.els.root.hidden = true;
    this.els.app.inert = false;
    this.required = false;
    document.body.classList.remove("modal-open");
  }

  setError(message) {
    const { error, input } = this.els;
    error.textContent = message;
    error.hidden = !message;
    input.setAttribute("aria-invalid", String(Boolean(message)));
  }

  async submit() {
    if (this.checking) return;
    const { input, submit } = this.els;
    const key = input.value.trim();
    if (!key) {
      this.setError("Paste the key first.");
      input.focus();
      return;
    }
    if (!TOKEN.test(key)) {
      this.setError("That does not look like an API key: keys have no spaces or quotes (vx_namespace_…).");
      input.focus();
      return;
    }
    this.checking = true;
    submit.disabled = true;
    submit.textContent = "Checking…";
    try {
      const opened = await api.logIn(key);
      input.value = "";
      this.close();
      this.onKey?.(opened);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.setError(`Refused: ${error.message}.`);
      else if (error instanceof ApiError && error.status === 403) this.setError(`This key is not for functions: ${error.message}.`);
      else this.setError(`Could not check the key: ${error.message}.`);
      input.select();
    } finally {
      this.checking = false;
      submit.disabled = false;
      submit.textContent = "Connect";
    }
  }
}
