// The Settings pane: a function's name, env, write-only secrets, allowed hosts, schedule and
// custom-domain routes.
// Saving deploys the active version's code with the settings changed (POST /deploy): a named
// function gets a new version, an unnamed one becomes a new function. What will change is said
// before the save; what is left alone is kept by the server (settings stick).

import { api } from "./api.js";
import { h, icon } from "./dom.js";
import { refOf } from "./historyview.js";

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A function's schedules; a server from before several were allowed shows "schedule" only. */
function schedulesOf(fn) {
  return fn?.schedules ?? (fn?.schedule ? [fn.schedule] : []);
}

export class SettingsView {
  constructor(els, { onSaved, onToast }) {
    this.els = els; // {status, body}
    this.onSaved = onSaved;
    this.onToast = onToast;
    this.fn = null;
    this.busy = false;
    this.replaceSecrets = false;
    this.saveError = null;
    this.build();
    this.render();
  }

  build() {
    this.nameField = h("input", { class: "mono", id: "settings-name", spellcheck: "false", autocomplete: "off", maxlength: "63", placeholder: "hello-world", "aria-label": "Name" });
    this.nameNote = h("p", { class: "settings-hint", id: "settings-name-note" });
    this.envRows = h("div", { class: "settings-rows", id: "settings-env" });
    this.secretNames = h("div", { class: "settings-secrets", id: "settings-secret-names" });
    this.secretRows = h("div", { class: "settings-rows", id: "settings-secrets" });
    this.secretToggle = h("button", { class: "btn btn-xs btn-ghost", id: "settings-replace-secrets", type: "button", onclick: () => this.startReplacing() }, "Change secrets");
    this.addSecret = h("button", { class: "btn btn-xs btn-ghost", id: "settings-add-secret", type: "button", hidden: true, onclick: () => this.row(this.secretRows, "", "", true, true) }, "+ Secret");
    this.hosts = h("textarea", { class: "mono", id: "settings-hosts", rows: "3", spellcheck: "false", placeholder: "api.example.com\n*.example.org", "aria-label": "Allowed hosts, one a line" });
    this.routes = h("textarea", { class: "mono", id: "settings-routes", rows: "3", spellcheck: "false", placeholder: "api.example.com/v1/*\n*.example.com/*", "aria-label": "Routes, one a line" });
    this.schedule = h("textarea", { class: "mono", id: "settings-schedule", rows: "2", spellcheck: "false", autocomplete: "off", placeholder: "none (e.g. */5 * * * *)", "aria-label": "Cron schedules (UTC), one a line" });
    this.changes = h("div", { class: "settings-changes", id: "settings-changes", "aria-live": "polite" });
    this.problem = h("p", { class: "field-error", id: "settings-error", role: "alert", hidden: true });
    this.save = h("button", { class: "btn btn-primary btn-sm", id: "settings-save", type: "button", onclick: () => this.submit() }, "Save");
    this.resetButton = h("button", { class: "btn btn-ghost btn-sm", id: "settings-reset", type: "button", onclick: () => this.load() }, "Reset");
    const section = (title, hint, ...children) => h("section", { class: "settings-section" }, h("div", { class: "section-label" }, title), ...children, hint ? h("p", { class: "settings-hint" }, hint) : null);
    this.form = h(
      "div",
      { class: "settings-form" },
      section("Name", null, this.nameField, this.nameNote),
      section(
        "Environment variables",
        "Vortex.env in scripts, env in a module's handlers. Names are letters, digits and _.",
        this.envRows,
        h("button", { class: "btn btn-xs btn-ghost", id: "settings-add-env", type: "button", onclick: () => this.row(this.envRows, "", "", true) }, "+ Variable"),
      ),
      section(
        "Secrets",
        "Write-only: their values are sealed on the server and never shown. To change them, enter every secret the function should have.",
        this.secretNames,
        this.secretRows,
        h("div", { class: "settings-inline" }, this.secretToggle, this.addSecret),
      ),
      section("Allowed hosts", "Hosts fetch() may reach, one a line (*.example.org for its subdomains); none: fetch() is denied.", this.hosts),
      section("Schedule", "Five-field cron, in UTC, one a line (up to 5): the function also runs on each, with event.cron the one that fired. Empty: no schedule.", this.schedule),
      section("Routes", "Custom domains behind your reverse proxy, one a line: host/path, the host exact or *.example.com, the path exact or ending in *. A named function only.", this.routes),
      this.changes,
      this.problem,
      h("div", { class: "settings-actions" }, this.resetButton, this.save),
    );
    this.els.body.replaceChildren(this.form);
    this.form.addEventListener("input", () => {
      this.saveError = null;
      this.renderChanges();
    });
  }

  row(container, name, value, focus = false, secret = false) {
    const nameField = h("input", { class: "mono", value: name, placeholder: "NAME", spellcheck: "false", autocomplete: "off", "aria-label": secret ? "Secret name" : "Variable name" });
    const valueField = h("input", { class: "mono", value, placeholder: secret ? "value (required)" : "value", spellcheck: "false", autocomplete: "off", type: secret ? "password" : "text", "aria-label": secret ? "Secret value" : "Variable value" });
    const row = h("div", { class: "settings-row" }, nameField, valueField);
    row.append(h("button", { class: "btn btn-xs btn-ghost btn-icon", type: "button", title: "Remove", "aria-label": "Remove", onclick: () => {
      row.remove();
      this.renderChanges();
    } }, icon("x")));
    container.append(row);
    if (focus) nameField.focus();
    this.renderChanges();
  }

  pairs(container) {
    return [...container.querySelectorAll(".settings-row")].map((row) => [...row.querySelectorAll("input")].map((input) => input.value)).map(([name, value]) => [name.trim(), value]).filter(([name, value]) => name || value);
  }

  setFunction(fn) {
    const fresh = refOf(fn) !== refOf(this.fn) || fn?.id !== this.fn?.id;
    this.fn = fn;
    if (!fresh) return;
    this.load();
    // A version this page just deployed is known by what the page sent: its settings are asked.
    if (fn && !("env" in fn)) this.fetch(fn.id);
  }

  async fetch(id) {
    try {
      const full = await api.getFunction(id);
      if (this.fn?.id !== id) return;
      this.fn = { ...this.fn, ...full };
      this.load();
    } catch {
      // The form shows what it knows; a save asks again.
    }
  }

  /** The form as the open version has it. */
  load() {
    const fn = this.fn;
    this.replaceSecrets = false;
    this.saveError = null;
    this.problem.hidden = true;
    this.nameField.value = fn?.name ?? "";
    this.envRows.replaceChildren();
    for (const [name, value] of Object.entries(fn?.env ?? {})) this.row(this.envRows, name, value);
    this.secretRows.replaceChildren();
    this.hosts.value = (fn?.allow_hosts ?? []).join("\n");
    this.schedule.value = schedulesOf(fn).join("\n");
    this.routes.value = (fn?.routes ?? []).join("\n");
    this.render();
  }

  startReplacing() {
    this.replaceSecrets = true;
    this.secretRows.replaceChildren();
    for (const name of this.fn?.secrets ?? []) this.row(this.secretRows, name, "", false, true);
    if (!(this.fn?.secrets ?? []).length) this.row(this.secretRows, "", "", true, true);
    this.render();
    this.secretRows.querySelector("input[type=password]")?.focus();
  }

  /** What the save would send, and the lines that say what changes; or a problem. */
  plan() {
    const fn = this.fn;
    const body = {};
    const lines = [];
    const env = Object.fromEntries(this.pairs(this.envRows));
    for (const [name] of this.pairs(this.envRows)) if (!VARIABLE.test(name)) return { problem: `${name || "A variable"} is not a variable name (letters, digits and _, not first a digit)` };
    if (this.pairs(this.envRows).length !== Object.keys(env).length) return { problem: "A variable is named twice" };
    const before = fn?.env ?? {};
    if (!same(env, before)) {
      body.env = env;
      const added = Object.keys(env).filter((k) => !(k in before));
      const removed = Object.keys(before).filter((k) => !(k in env));
      const changed = Object.keys(env).filter((k) => k in before && before[k] !== env[k]);
      lines.push(["env", [...added.map((k) => `+${k}`), ...changed.map((k) => `~${k}`), ...removed.map((k) => `−${k}`)].join(" ")]);
    }
    if (this.replaceSecrets) {
      const secrets = this.pairs(this.secretRows);
      for (const [name, value] of secrets) {
        if (!VARIABLE.test(name)) return { problem: `${name || "A secret"} is not a secret name` };
        if (!value) return { problem: `Enter the value of ${name}, or remove it: secret values are write-only` };
        if (name in env) return { problem: `${name} is both a variable and a secret` };
      }
      body.secrets = Object.fromEntries(secrets);
      const names = Object.keys(body.secrets);
      const old = fn?.secrets ?? [];
      lines.push(["secrets", names.length ? `set to ${names.join(", ")}${old.filter((k) => !names.includes(k)).map((k) => ` −${k}`).join("")}` : "all removed"]);
    }
    const hosts = this.hosts.value.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
    if (!same(hosts, fn?.allow_hosts ?? [])) {
      body.allow_hosts = hosts;
      lines.push(["allowed hosts", hosts.length ? hosts.join(", ") : "none (fetch denied)"]);
    }
    // One a line: an expression holds spaces and may hold commas (0,30 * * * *).
    const schedules = this.schedule.value.split("\n").map((x) => x.trim().replace(/\s+/g, " ")).filter(Boolean);
    const schedulesBefore = schedulesOf(fn);
    if (!same(schedules, schedulesBefore)) {
      // One is sent as "schedule", as before several were allowed.
      if (schedules.length > 1) body.schedules = schedules;
      else body.schedule = schedules[0] ?? null;
      lines.push(["schedule", `${schedulesBefore.join(", ") || "none"} → ${schedules.join(", ") || "none"}`]);
    }
    const routes = this.routes.value.split(/\s+/).map((x) => x.trim()).filter(Boolean);
    const routesBefore = fn?.routes ?? [];
    if (!same(routes, routesBefore)) {
      body.routes = routes;
      const added = routes.filter((r) => !routesBefore.includes(r));
      const removed = routesBefore.filter((r) => !routes.includes(r));
      lines.push(["routes", routes.length ? [...added.map((r) => `+${r}`), ...removed.map((r) => `−${r}`)].join(" ") || "reordered" : "none"]);
    }
    const name = fn?.name ?? this.nameField.value.trim();
    if (!fn?.name && name) {
      if (!NAME.test(name)) return { problem: "A name is 1–63 lowercase letters, digits and hyphens" };
      lines.unshift(["name", name]);
    }
    if (routes.length && !name) return { problem: "Routes are claimed by a named function: give it a name" };
    return { body, lines, name: name || null };
  }

  render() {
    const fn = this.fn;
    this.els.status.replaceChildren(
      h("span", { class: "status-label" }, fn ? (fn.name ? `${fn.name} v${fn.version}` : "Unnamed function") : "No function open"),
      fn ? h("span", { class: "status-chip", title: "The version these settings are of" }, fn.name ? "active version" : "this function") : null,
    );
    const named = Boolean(fn?.name);
    this.nameField.readOnly = named;
    this.nameField.classList.toggle("readonly", named);
    this.nameNote.textContent = named
      ? "A name stays: to start another function, deploy under another name."
      : "Give it a name and saving deploys it as a new named function, with versions and a URL by name.";
    const secrets = fn?.secrets ?? [];
    this.secretNames.hidden = this.replaceSecrets;
    this.secretNames.replaceChildren(
      ...(secrets.length ? secrets.map((name) => h("span", { class: "secret-chip mono" }, icon("key"), name, h("span", { class: "secret-dots" }, "••••"))) : [h("span", { class: "settings-hint" }, "No secrets.")]),
    );
    this.secretToggle.hidden = this.replaceSecrets;
    this.addSecret.hidden = !this.replaceSecrets;
    this.renderChanges();
  }

  renderChanges() {
    const fn = this.fn;
    if (!fn) {
      this.changes.replaceChildren();
      this.save.disabled = true;
      return;
    }
    const { problem, lines } = this.plan();
    // What the server refused stays said until the form is edited again.
    const said = problem ?? this.saveError;
    this.problem.hidden = !said;
    this.problem.textContent = said ?? "";
    const named = Boolean(fn.name) || Boolean(lines?.some(([what]) => what === "name"));
    if (problem || !lines.length) {
      this.changes.replaceChildren(h("p", { class: "settings-hint" }, problem ? "" : "No changes."));
      this.save.disabled = true;
      return;
    }
    const target = fn.name ? `version ${fn.version + 1} of ${fn.name}` : named ? "a new named function" : "a new function (an unnamed function has no versions)";
    this.changes.replaceChildren(
      h("p", { class: "settings-lead" }, `Saving deploys the code of ${fn.name ? `v${fn.version}` : "this function"} as ${target}, with:`),
      h("ul", null, lines.map(([what, detail]) => h("li", { dataset: { setting: what } }, h("span", { class: "dn-label" }, what), " ", h("span", { class: "mono" }, detail)))),
      h("p", { class: "settings-hint" }, "Everything else is kept. Unsaved edits in the editor are not part of it."),
    );
    this.save.disabled = this.busy;
  }

  async submit() {
    const fn = this.fn;
    if (!fn || this.busy) return;
    const { problem, body, name } = this.plan();
    if (problem) return;
    this.busy = true;
    this.save.textContent = "Saving…";
    this.renderChanges();
    try {
      // The version's code exactly as stored (every file of a module), not the editor's.
      const stored = await api.getFunction(fn.id);
      const upload = stored.files && stored.entry ? { files: stored.files, entry: stored.entry } : { code: stored.code, filename: stored.filename };
      const answer = await api.deployWith({ ...upload, ...(name ? { name } : {}), ...body });
      this.onToast?.(answer.name ? `Saved: ${answer.name} v${answer.version}` : "Saved as a new function", { detail: `Function ID ${answer.function_id}` });
      await this.onSaved?.(answer);
    } catch (error) {
      this.saveError = error.message;
    } finally {
      this.busy = false;
      this.save.textContent = "Save";
      this.renderChanges();
    }
  }
}
