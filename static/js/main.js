// The Vortex dashboard: functions and pool health on the left, the editor in the middle, the
// run and its live logs on the right. A thin client of the HTTP API and the log WebSocket.

import { adoptStoredKey, api, ApiError, NetworkError, onUnauthorized, session } from "./api.js";
import { $, h, icon } from "./dom.js";
import { Editor } from "./editor.js";
import { EXAMPLE_CODE, EXAMPLE_FILENAME } from "./example.js";
import { formatBytes, formatMs, IS_MAC, newRunId, relativeTime, shortId } from "./format.js";
import { ChartsView } from "./chartsview.js";
import { HealthMonitor } from "./health.js";
import { HistoryView, refOf } from "./historyview.js";
import { KeyGate } from "./keygate.js";
import { KvView } from "./kvview.js";
import { openRunStream, TailSocket } from "./live.js";
import { RunView } from "./runview.js";
import { SettingsView } from "./settingsview.js";
import { TailView } from "./tailview.js";
import { TesterView } from "./testerview.js";
import { VersionsView } from "./versionsview.js";
import { firstFrame } from "./views.js";

const DRAFT_KEY = "vortex.draft";
const FILENAME = /^[\w][\w.-]{0,99}$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LIST_REFRESH_MS = 5000;
const PAGE = 100;
const MAX_PAGE = 1000;
const encoder = new TextEncoder();

const els = {
  app: $("#app"),
  menu: $("#menu-btn"),
  scrim: $("#scrim"),
  health: $("#health"),
  healthLabel: $("#health-label"),
  healthDetail: $("#health-detail"),
  banner: $("#connection-banner"),
  bannerDetail: $("#banner-detail"),
  retryNow: $("#retry-now"),
  fnCount: $("#fn-count"),
  fnList: $("#fn-list"),
  fnEmpty: $("#fn-empty"),
  fnLoading: $("#fn-loading"),
  fnSearch: $("#fn-search"),
  fnScroll: $("#fn-scroll"),
  fnMore: $("#fn-more"),
  fnNoMatch: $("#fn-nomatch"),
  fnNoMatchText: $("#fn-nomatch-text"),
  fnNoMatchWhat: $("#fn-nomatch-what"),
  fnSearchBy: $("#fn-search-by"),
  newFn: $("#new-fn"),
  stat: {
    workers: $("#stat-workers"),
    spare: $("#stat-spare"),
    running: $("#stat-running"),
    restarts: $("#stat-restarts"),
    bar: $("#pool-bar-fill"),
  },
  filename: $("#filename"),
  badge: $("#fn-badge"),
  fnId: $("#fn-id"),
  fnName: $("#fn-name"),
  fnNameChip: $("#fn-name-chip"),
  keyBtn: $("#key-btn"),
  keyLabel: $("#key-label"),
  fnSubText: $("#fn-sub-text"),
  deployNote: $("#deploy-note"),
  del: $("#delete-btn"),
  deploy: $("#deploy-btn"),
  deployLabel: $("#deploy-label"),
  run: $("#run-btn"),
  runLabel: $("#run-label"),
  runKbd: $("#run-kbd"),
  editorError: $("#editor-error"),
  cursorPos: $("#cursor-pos"),
  codeSize: $("#code-size"),
  tabs: {
    run: $("#tab-run"),
    tail: $("#tab-tail"),
    history: $("#tab-history"),
    versions: $("#tab-versions"),
    charts: $("#tab-charts"),
    tester: $("#tab-tester"),
    kv: $("#tab-kv"),
    settings: $("#tab-settings"),
  },
  panes: {
    run: $("#pane-run"),
    tail: $("#pane-tail"),
    history: $("#pane-history"),
    versions: $("#pane-versions"),
    charts: $("#pane-charts"),
    tester: $("#pane-tester"),
    kv: $("#pane-kv"),
    settings: $("#pane-settings"),
  },
  toasts: $("#toasts"),
};

const state = {
  functions: null, // null until the first list arrives; the pages loaded so far
  cursor: null, // the next page's, null when every function is loaded
  prefix: "", // the search: functions whose name or id starts with it (on the server)
  searchBy: "name", // or "file": functions whose file name holds the search
  current: null, // the open function: {id, filename, code, size, created_at, last_run, name?, version?}
  edits: new Map(), // unsaved edits of deployed functions, by ref (name, or id when unnamed)
  busy: null, // "deploy" | "run" | null
  online: null,
  tab: "run",
  tail: null,
  route: null,
};

// ---------------------------------------------------------------- small helpers

function toast(message, { kind = "ok", detail = "" } = {}) {
  const el = h(
    "div",
    { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" },
    icon(kind === "error" ? "alert" : kind === "info" ? "plug" : "check"),
    h("div", { class: "toast-body" }, h("div", { class: "toast-title" }, message), detail ? h("div", { class: "toast-detail" }, detail) : null),
  );
  els.toasts.append(el);
  while (els.toasts.childElementCount > 3) els.toasts.firstElementChild.remove();
  setTimeout(() => {
    el.classList.add("leaving");
    setTimeout(() => el.remove(), 250);
  }, 3000);
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API needs a secure context; on plain http to a LAN address, use a hidden field.
    const field = h("textarea", { class: "offscreen", readonly: true });
    field.value = text;
    document.body.append(field);
    field.select();
    document.execCommand("copy");
    field.remove();
  }
  toast("Copied to clipboard", { kind: "info", detail: text.length > 64 ? `${text.slice(0, 64)}…` : text });
}

function codeBytes(code) {
  return encoder.encode(code).length;
}

function isDirty() {
  const { current } = state;
  if (!current) return true;
  return editor.value !== current.code || els.filename.value.trim() !== current.filename;
}

function loadDraft() {
  try {
    const draft = JSON.parse(localStorage.getItem(DRAFT_KEY) ?? "null");
    if (draft && typeof draft.code === "string" && draft.code.trim()) return { name: "", ...draft };
  } catch {
    // Storage may be blocked or hold something else: the example is a fine start.
  }
  return { code: EXAMPLE_CODE, filename: EXAMPLE_FILENAME, name: "" };
}

function saveDraft() {
  try {
    if (state.current) return;
    const code = editor.value;
    const filename = els.filename.value.trim();
    const name = els.fnName.value.trim();
    if (code === EXAMPLE_CODE && filename === EXAMPLE_FILENAME && !name) localStorage.removeItem(DRAFT_KEY);
    else localStorage.setItem(DRAFT_KEY, JSON.stringify({ code, filename, name }));
  } catch {
    // Not persisting a draft is not worth bothering the user about.
  }
}

// ---------------------------------------------------------------- editor and its header

const editor = new Editor($("#editor"), {
  onChange: () => {
    if (state.current) {
      if (isDirty()) state.edits.set(refOf(state.current), { code: editor.value, filename: els.filename.value });
      else state.edits.delete(refOf(state.current));
    }
    saveDraft();
    els.editorError.classList.add("stale");
    renderHeader();
  },
  onRun: () => run(),
  onSave: () => deploy(),
});
editor.onCursor = (line, column) => {
  els.cursorPos.textContent = `Ln ${line}, Col ${column}`;
};

function renderHeader() {
  const { current, busy } = state;
  const dirty = isDirty();
  const bytes = codeBytes(editor.value);
  els.codeSize.textContent = formatBytes(bytes);
  els.filename.classList.toggle("invalid", !FILENAME.test(els.filename.value.trim()));
  if (current) {
    const named = Boolean(current.name);
    els.badge.dataset.kind = dirty ? "modified" : "deployed";
    els.badge.textContent = dirty ? "Modified" : "Deployed";
    els.badge.title = dirty
      ? named
        ? `Deploying adds a new version of ${current.name} and makes it active`
        : "Deploying creates a new function; this one stays as it is"
      : "This code is deployed";
    els.fnName.hidden = true;
    els.fnNameChip.hidden = !named;
    if (named) {
      els.fnNameChip.replaceChildren(h("span", { class: "mono" }, current.name), h("span", { class: "name-version" }, `v${current.version}`));
      els.fnNameChip.title = `${current.name}, version ${current.version} (active)`;
    }
    els.fnSubText.hidden = false;
    els.fnId.hidden = false;
    els.fnId.replaceChildren(h("span", { class: "mono" }, shortId(current.id)), icon("copy"));
    els.fnId.title = `Copy function ID ${current.id}`;
    els.fnSubText.textContent = dirty
      ? named
        ? "deploying adds a version"
        : "deploying creates a new function"
      : `deployed ${relativeTime(current.created_at)}`;
    els.del.hidden = false;
    const deleteLabel = named ? `Delete ${current.name} (every version)` : "Delete function";
    els.del.title = deleteLabel;
    els.del.setAttribute("aria-label", deleteLabel);
  } else {
    els.badge.dataset.kind = "draft";
    els.badge.textContent = "Draft";
    els.badge.title = "Not deployed yet";
    els.fnNameChip.hidden = true;
    els.fnName.hidden = false;
    const name = els.fnName.value.trim();
    els.fnName.classList.toggle("invalid", Boolean(name) && !validName(name));
    els.fnName.style.width = `calc(${Math.min(26, Math.max(22, name.length + 2))}ch + 10px)`;
    els.fnId.hidden = true;
    // The badge says "Draft": the line under the file name is the name field's.
    els.fnSubText.hidden = true;
    els.del.hidden = true;
  }
  renderDeployNote(current && current.name && dirty ? keptSettings(current) : []);
  fitFilename();
  els.deploy.disabled = busy !== null;
  els.deploy.hidden = current !== null && !dirty && busy !== "deploy";
  els.deployLabel.textContent = busy === "deploy" ? "Deploying…" : "Deploy";
  els.run.disabled = busy !== null;
  els.runLabel.textContent = busy === "run" ? "Running…" : current && !dirty ? "Run" : "Deploy & run";
  els.app.classList.toggle("busy", busy !== null);
}

/**
 * The settings a new version of a named function takes from its active one: the dashboard
 * deploys code only, and the server keeps every setting a deploy leaves out (docs/versions.md).
 */
function keptSettings(fn) {
  const kept = [];
  const names = (value) => (Array.isArray(value) ? value : Object.keys(value ?? {}));
  const env = names(fn.env);
  if (env.length) kept.push({ key: "env", label: "env", detail: env.join(", ") });
  const secrets = names(fn.secrets);
  if (secrets.length) kept.push({ key: "secrets", label: "secrets", detail: secrets.join(", ") });
  if (fn.allow_hosts?.length) kept.push({ key: "allow_hosts", label: "allowed hosts", detail: fn.allow_hosts.join(", ") });
  const schedules = fn.schedules ?? (fn.schedule ? [fn.schedule] : []);
  if (schedules.length) kept.push({ key: "schedule", label: "schedule", detail: `${schedules.join(", ")} (UTC)` });
  return kept;
}

/** Before a deploy of a named function: only the code changes, these settings stay. */
function renderDeployNote(kept) {
  els.deployNote.hidden = kept.length === 0;
  if (!kept.length) return;
  els.deployNote.replaceChildren(
    h("span", { class: "dn-lead" }, "Only the code changes. The new version keeps "),
    ...kept.flatMap((k, i) => [
      ...(i ? [h("span", { class: "dn-sep" }, " · ")] : []),
      h("span", { class: "dn-item", dataset: { setting: k.key } }, h("span", { class: "dn-label" }, k.label), " ", h("span", { class: "mono" }, k.detail)),
    ]),
  );
}

function fitFilename() {
  const length = Math.min(28, Math.max(6, els.filename.value.length + 1));
  els.filename.style.width = `calc(${length}ch + 12px)`;
}

els.filename.addEventListener("input", () => {
  editor.onChange();
});
els.fnName.addEventListener("input", () => {
  saveDraft();
  renderHeader();
});
els.fnName.addEventListener("keydown", (event) => {
  if (event.key === "Enter") deploy();
});

function validName(name) {
  return NAME.test(name) && !UUID.test(name);
}

function hideEditorError() {
  els.editorError.hidden = true;
  els.editorError.replaceChildren();
  els.editorError.classList.remove("stale");
}

/** A refused deploy: for a syntax error, the message, the line with a caret, and a jump link. */
function showEditorError(error) {
  const box = els.editorError;
  box.classList.remove("stale");
  const children = [];
  if (error.code === "syntax_error") {
    const line = Number(error.details?.line);
    const column = Number(error.details?.column);
    const message = String(error.message).replace(/^SyntaxError:\s*/, "").replace(/\s*\([^()]*:\d+:\d+\)$/, "");
    children.push(
      h(
        "div",
        { class: "ee-head" },
        icon("alert"),
        h("span", { class: "ee-name" }, "SyntaxError"),
        h("span", { class: "ee-msg" }, message),
        Number.isInteger(line)
          ? h("button", { class: "ee-jump", type: "button", onclick: () => editor.goTo(line, column || 1) }, `Line ${line}${column ? `, col ${column}` : ""}`)
          : null,
      ),
    );
    const source = editor.value.split("\n")[line - 1];
    if (source !== undefined) {
      const gutter = String(line);
      children.push(
        h(
          "pre",
          { class: "ee-snippet" },
          h("span", { class: "ee-ln" }, `${gutter} │ `),
          source,
          "\n",
          h("span", { class: "ee-ln" }, `${" ".repeat(gutter.length)} │ `),
          h("span", { class: "ee-caret" }, `${" ".repeat(Math.max(0, (column || 1) - 1))}^`),
        ),
      );
    }
  } else {
    children.push(
      h("div", { class: "ee-head" }, icon("alert"), h("span", { class: "ee-name" }, error instanceof NetworkError ? "Server unreachable" : "Not deployed"), h("span", { class: "ee-msg" }, error.message)),
    );
  }
  box.replaceChildren(...children);
  box.hidden = false;
}

// ---------------------------------------------------------------- functions list

let renderedList = { key: "", at: 0 };
function renderFunctions({ force = false } = {}) {
  const list = state.functions;
  els.fnLoading.hidden = list !== null;
  if (list === null) return;
  // Rebuilding the list under the pointer every few seconds would eat clicks: only on change.
  const key = JSON.stringify([refOf(state.current), list, state.cursor]);
  if (!force && key === renderedList.key && Date.now() - renderedList.at < 20_000) return;
  renderedList = { key, at: Date.now() };
  els.fnCount.textContent = list.length ? `${list.length}${state.cursor ? "+" : ""}` : "";
  els.fnEmpty.hidden = list.length > 0 || state.prefix !== "";
  els.fnNoMatch.hidden = list.length > 0 || state.prefix === "";
  const byFile = state.prefix.startsWith("file:");
  els.fnNoMatchWhat.firstChild.textContent = byFile ? "No function's file name holds " : "No function's name or id starts with ";
  els.fnNoMatchText.textContent = byFile ? state.prefix.slice(5) : state.prefix;
  els.fnMore.hidden = !state.cursor;
  const now = Date.now();
  const items = list.map((fn) => {
    const last = fn.last_run;
    const runState = last ? (last.ok ? "ok" : "fail") : "never";
    const ref = refOf(fn);
    const active = refOf(state.current) === ref;
    const lastText = last
      ? [icon(last.ok ? "check" : "x", `icon run-${runState}`), last.ok ? formatMs(last.execution_time_ms) : "failed"]
      : ["never run"];
    return h(
      "li",
      null,
      h(
        "a",
        {
          class: "fn-item",
          href: `#/functions/${encodeURIComponent(ref)}`,
          "aria-current": active ? "page" : null,
          dataset: { id: fn.id, ref },
          title: fn.id,
        },
        h("span", {
          class: "status-dot",
          dataset: { state: runState },
          title: last ? `Last run ${relativeTime(last.at, now)}: ${last.ok ? "succeeded" : String(last.error_code ?? "failed")}` : "Never run",
        }),
        h(
          "span",
          { class: "fn-main" },
          h(
            "span",
            { class: "fn-row" },
            h(
              "span",
              { class: "fn-name", title: fn.name ? `${fn.name}, version ${fn.version} (active) of ${fn.filename}` : "" },
              // The version stays in sight when a long name is cut short.
              fn.name ? [h("span", { class: "fn-name-text" }, fn.name), h("span", { class: "fn-name-ver" }, ` · v${fn.version}`)] : String(fn.filename ?? "index.js"),
            ), h("span", { class: "fn-time", title: String(fn.created_at ?? "") }, relativeTime(last?.at ?? fn.created_at, now))),
          h("span", { class: "fn-sub" }, h("span", { class: "mono" }, shortId(fn.id)), h("span", { class: "sep" }, "·"), formatBytes(fn.size), h("span", { class: "sep" }, "·"), h("span", { class: `fn-last run-${runState}` }, lastText)),
        ),
      ),
    );
  });
  els.fnList.replaceChildren(...items);
}

let listTimer = null;
function scheduleListRefresh() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => {
    if (state.online && document.visibilityState === "visible") refreshFunctions();
    else scheduleListRefresh();
  }, LIST_REFRESH_MS);
}

async function refreshFunctions() {
  clearTimeout(listTimer);
  const prefix = state.prefix;
  // The pages loaded so far, again (up to the most one request answers): what was deployed,
  // deleted or run since shows up; further pages keep their cursor.
  const loaded = state.functions?.length ?? 0;
  const limit = Math.min(MAX_PAGE, Math.max(PAGE, loaded));
  try {
    const data = await api.listFunctions({ limit, ...searchQuery(prefix) });
    if (prefix !== state.prefix) return; // another search started meanwhile
    const fresh = Array.isArray(data?.functions) ? data.functions : [];
    if (loaded > limit && data?.cursor) {
      const seen = new Set(fresh.map(refOf));
      state.functions = fresh.concat(state.functions.slice(limit).filter((fn) => !seen.has(refOf(fn))));
    } else {
      state.functions = fresh;
      state.cursor = data?.cursor ?? null;
    }
    const current = state.current && state.functions.find((fn) => refOf(fn) === refOf(state.current));
    if (current) {
      state.current.last_run = current.last_run;
      if (state.busy !== "run" && runView.els.empty.hidden === false) runView.idle(state.current);
      // Another client deployed or rolled back this name: follow its active version.
      if (current.name && current.id !== state.current.id && !state.busy) syncCurrent();
    }
    renderFunctions();
  } catch (error) {
    if (!(error instanceof NetworkError)) console.warn("listing functions failed:", error.message);
  } finally {
    scheduleListRefresh();
  }
}

let loadingMore = false;
/** The next page, after those loaded: on a click of "More", or when it scrolls into sight. */
async function loadMore() {
  if (loadingMore || !state.cursor || !state.functions) return;
  loadingMore = true;
  const { prefix, cursor } = state;
  try {
    const data = await api.listFunctions({ limit: PAGE, cursor, ...searchQuery(prefix) });
    if (prefix !== state.prefix || cursor !== state.cursor) return;
    const seen = new Set(state.functions.map(refOf));
    const more = (Array.isArray(data?.functions) ? data.functions : []).filter((fn) => !seen.has(refOf(fn)));
    state.functions = state.functions.concat(more);
    state.cursor = data?.cursor ?? null;
    renderFunctions({ force: true });
  } catch (error) {
    if (!(error instanceof NetworkError)) console.warn("listing more functions failed:", error.message);
  } finally {
    loadingMore = false;
  }
}

/** The list's query for a search: a prefix of names and ids, or text in file names. */
function searchQuery(text) {
  if (!text) return {};
  return text.startsWith("file:") ? { file: text.slice(5) } : { prefix: text };
}

let searchTimer = null;
function search() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const raw = els.fnSearch.value.trim();
    state.searchBy = els.fnSearchBy.value === "file" ? "file" : "name";
    // Names are lowercase slugs and ids lowercase UUIDs: other characters match nothing. File
    // names hold letters, digits, "_", "." and "-" (in any case: the server ignores it).
    const byFile = state.searchBy === "file";
    const cleaned = byFile ? raw.replace(/[^\w.-]/g, "").slice(0, 100) : raw.toLowerCase().replace(/[^a-z0-9-]/g, "").slice(0, 64);
    const prefix = byFile && cleaned ? `file:${cleaned}` : cleaned;
    els.fnSearch.setAttribute("aria-label", state.searchBy === "file" ? "Search functions whose file name holds the text" : "Search functions by the start of their name or id");
    if (prefix === state.prefix) return;
    state.prefix = prefix;
    state.functions = null;
    state.cursor = null;
    els.fnList.replaceChildren();
    renderFunctions({ force: true });
    refreshFunctions();
  }, 200);
}

function matchesSearch(fn) {
  const { file, prefix = "" } = searchQuery(state.prefix);
  if (file !== undefined) return String(fn.filename ?? "").toLowerCase().includes(file.toLowerCase());
  return refOf(fn).startsWith(prefix) || fn.id.startsWith(prefix);
}

function upsertFunction(record) {
  if (!state.functions) state.functions = [];
  const index = state.functions.findIndex((fn) => refOf(fn) === refOf(record));
  const summary = { ...record };
  delete summary.code;
  if (index >= 0) state.functions[index] = { ...state.functions[index], ...summary };
  else if (matchesSearch(summary)) state.functions.unshift(summary);
  renderFunctions();
}

// ---------------------------------------------------------------- health and connection

function renderHealth(health) {
  const status = ["healthy", "degraded", "unhealthy"].includes(health.status) ? health.status : "unhealthy";
  els.health.dataset.state = status;
  els.healthLabel.textContent = status[0].toUpperCase() + status.slice(1);
  els.healthDetail.textContent = `${health.active_workers}/${health.max_workers} workers · ${health.running ?? 0} running`;
  els.health.title = `Pool ${status}: ${health.active_workers} of ${health.max_workers} isolate hosts up, ${health.spare_workers ?? 0} spare, ${health.running ?? 0} running, ${health.host_restarts ?? 0} restarts`;
  els.stat.workers.textContent = `${health.active_workers} / ${health.max_workers}`;
  els.stat.spare.textContent = String(health.spare_workers ?? "–");
  els.stat.running.textContent = String(health.running ?? "–");
  els.stat.restarts.textContent = String(health.host_restarts ?? "–");
  const ratio = health.max_workers ? Math.min(1, health.active_workers / health.max_workers) : 0;
  els.stat.bar.style.width = `${Math.round(ratio * 100)}%`;
  els.stat.bar.dataset.state = status;
}

const health = new HealthMonitor({
  onHealth: renderHealth,
  onOnline: (recovered) => {
    state.online = true;
    els.app.classList.remove("offline");
    els.banner.hidden = true;
    if (recovered) {
      toast("Reconnected", { kind: "info", detail: `Vortex at ${location.host} is back` });
      refreshFunctions();
      state.tail?.kick();
      if (state.route && state.route !== refOf(state.current)) route();
    }
  },
  onOffline: ({ retryInMs, attempts, reason }) => {
    state.online = false;
    els.app.classList.add("offline");
    els.health.dataset.state = "offline";
    els.healthLabel.textContent = "Offline";
    els.healthDetail.textContent = "reconnecting…";
    els.banner.hidden = false;
    const seconds = Math.ceil(retryInMs / 1000);
    els.bannerDetail.textContent = `No answer from ${location.host}. ${seconds > 0 ? `Reconnecting in ${seconds}s` : "Reconnecting now"}… (attempt ${attempts})`;
    els.banner.title = reason;
  },
});
els.retryNow.addEventListener("click", () => {
  els.bannerDetail.textContent = "Reconnecting now…";
  health.pollNow();
  state.tail?.kick();
});

// ---------------------------------------------------------------- run and tail panes

const runView = new RunView(
  {
    status: $("#run-status"),
    scroll: $("#run-scroll"),
    empty: $("#run-empty"),
    consoleSection: $("#run-console-section"),
    console: $("#run-console"),
    count: $("#run-count"),
    error: $("#run-error"),
    result: $("#run-result"),
    output: $("#run-output"),
    copy: $("#copy-output"),
  },
  { onFrame: (line, column) => editor.goTo(line, column) },
);
runView.onCopy = copyText;

const tailView = new TailView(
  {
    status: $("#tail-status"),
    dot: $("#tail-dot"),
    scroll: $("#tail-scroll"),
    empty: $("#tail-empty"),
    list: $("#tail-console"),
    unread: $("#tail-unread"),
    tools: $("#tail-tools"),
    pause: $("#tail-pause"),
    clear: $("#tail-clear"),
  },
  { onCopy: copyText },
);

const historyView = new HistoryView(
  {
    status: $("#history-status"),
    refresh: $("#history-refresh"),
    empty: $("#history-empty"),
    head: $("#history-head"),
    list: $("#history-list"),
  },
  { onCopy: copyText },
);

const versionsView = new VersionsView(
  {
    status: $("#versions-status"),
    refresh: $("#versions-refresh"),
    empty: $("#versions-empty"),
    list: $("#versions-list"),
    note: $("#versions-note"),
  },
  { onCopy: copyText, onSwitched: (pointer, from) => switched(pointer, from) },
);

const chartsView = new ChartsView({ status: $("#charts-status"), body: $("#charts-body") });
const testerView = new TesterView({ status: $("#tester-bar"), body: $("#tester-scroll") }, { onCopy: copyText });
const kvView = new KvView({ status: $("#kv-bar"), body: $("#kv-scroll") }, { onToast: toast });
const settingsView = new SettingsView({ status: $("#settings-bar"), body: $("#settings-scroll") }, { onToast: toast, onSaved: (answer) => settingsSaved(answer) });

/** Settings saved from the Settings pane: a new version of the open name, or a new function. */
async function settingsSaved(answer) {
  const ref = answer.name ?? answer.function_id;
  if (state.current?.name && answer.name === state.current.name) {
    await syncCurrent();
    versionsView.refresh();
  } else {
    location.hash = `#/functions/${encodeURIComponent(ref)}`;
  }
  refreshFunctions();
}

function selectTab(tab) {
  if (els.tabs[tab].hidden) tab = "run";
  state.tab = tab;
  for (const [name, button] of Object.entries(els.tabs)) {
    button.setAttribute("aria-selected", String(name === tab));
    button.tabIndex = name === tab ? 0 : -1;
    els.panes[name].hidden = name !== tab;
  }
  tailView.setVisible(tab === "tail");
  historyView.setVisible(tab === "history");
  chartsView.setVisible(tab === "charts");
  kvView.setVisible(tab === "kv");
  if (tab === "versions") versionsView.refresh();
}
for (const [name, button] of Object.entries(els.tabs)) {
  button.addEventListener("click", () => selectTab(name));
}
// Arrow keys move between tabs, as in any tab list.
$(".tabs").addEventListener("keydown", (event) => {
  if (!["ArrowLeft", "ArrowRight"].includes(event.key) || !event.target.matches(".tab")) return;
  const visible = Object.keys(els.tabs).filter((name) => !els.tabs[name].hidden);
  const at = visible.indexOf(state.tab);
  const next = visible[(at + (event.key === "ArrowRight" ? 1 : visible.length - 1)) % visible.length];
  selectTab(next);
  els.tabs[next].focus();
});

/** The open function changed (or became none): the views that follow it follow. */
function setCurrent(fn) {
  state.current = fn;
  historyView.setFunction(fn);
  versionsView.setFunction(fn);
  chartsView.setFunction(fn);
  testerView.setFunction(fn);
  kvView.setFunction(fn);
  settingsView.setFunction(fn);
  els.tabs.history.hidden = !fn;
  els.tabs.settings.hidden = !fn;
  els.tabs.charts.hidden = !fn;
  els.tabs.tester.hidden = !fn;
  els.tabs.kv.hidden = !fn;
  els.tabs.versions.hidden = !fn?.name;
  if (els.tabs[state.tab].hidden) selectTab("run");
  else if (state.tab === "versions") versionsView.refresh();
}

async function functionExists(id) {
  if (state.online === false) return null; // the health monitor knows: no need to ask
  try {
    await api.getFunction(id);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return false;
    return null; // unknown: the server is away; keep retrying
  }
}

function startTail(fn) {
  // By name, the tail follows every version: it stays open across deploys and rollbacks.
  const ref = refOf(fn);
  if (state.tail?.functionId === ref) {
    tailView.fn = fn;
    return;
  }
  state.tail?.stop();
  tailView.setFunction(fn);
  state.tail = new TailSocket(ref, {
    onLine: (line) => {
      tailView.add(line);
      runsSeen();
    },
    onState: (tailState, extra) => tailView.setState(tailState, extra),
    checkExists: functionExists,
  });
  state.tail.start();
}

/**
 * Lines of a run started elsewhere (CLI, curl, trigger, cron): once they stop coming, the run is
 * over and in the history, so the list's "last run" and the History tab catch up at once
 * rather than at their next poll.
 */
let runsSeenTimer = null;
function runsSeen() {
  clearTimeout(runsSeenTimer);
  runsSeenTimer = setTimeout(() => {
    if (state.busy === "run") return; // a run of this page refreshes both when it ends
    refreshFunctions();
    if (state.tab === "history") historyView.refresh({ quiet: true });
    if (state.tab === "charts") chartsView.refresh({ quiet: true });
  }, 800);
}

function stopTail() {
  state.tail?.stop();
  state.tail = null;
  tailView.setFunction(null);
}

// ---------------------------------------------------------------- routing

function setDrawer(open) {
  els.app.classList.toggle("drawer-open", open);
  els.menu.setAttribute("aria-expanded", String(open));
  els.scrim.hidden = !open;
}
els.menu.addEventListener("click", () => setDrawer(!els.app.classList.contains("drawer-open")));
els.scrim.addEventListener("click", () => setDrawer(false));

function routeId() {
  const match = location.hash.match(/^#\/functions\/([^/?#]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

function showDraft({ code, filename, name = "" } = loadDraft()) {
  setCurrent(null);
  state.route = null;
  els.filename.value = filename;
  els.fnName.value = name;
  editor.value = code;
  hideEditorError();
  stopTail();
  if (state.busy !== "run") runView.idle(null);
  renderHeader();
  renderFunctions();
}

async function openFunction(id) {
  state.route = id;
  if (refOf(state.current) === id) return;
  setDrawer(false);
  els.app.classList.add("loading");
  try {
    const fn = await api.getFunction(id);
    if (state.route !== id) return; // the user moved on meanwhile
    if (fn.name && id !== fn.name) {
      // The id of one version of a named function: open the function, by its name.
      history.replaceState(null, "", `#/functions/${encodeURIComponent(fn.name)}`);
      await openFunction(fn.name);
      return;
    }
    setCurrent(fn);
    const edit = state.edits.get(id);
    els.filename.value = edit?.filename ?? fn.filename;
    editor.value = edit?.code ?? fn.code;
    hideEditorError();
    if (state.busy !== "run") runView.idle(fn);
    startTail(fn);
    renderHeader();
    renderFunctions();
  } catch (error) {
    if (state.route !== id) return;
    if (error instanceof ApiError && (error.status === 404 || error.status === 400)) {
      toast("Function not found", { kind: "error", detail: `No function ${id}` });
      location.hash = "#/";
    } else if (!(error instanceof ApiError && (error.status === 401 || error.status === 403))) {
      // (A missing key opens the key prompt, which opens this function again once it has one.)
      toast("Could not open the function", { kind: "error", detail: error.message });
    }
  } finally {
    if (state.route === id) els.app.classList.remove("loading");
  }
}

/** Load the active version of the open named function again, keeping unsaved edits. */
async function syncCurrent({ versions = true } = {}) {
  const name = state.current?.name;
  if (!name) return;
  let fresh;
  try {
    fresh = await api.getFunction(name);
  } catch (error) {
    if (!(error instanceof NetworkError)) console.warn("reloading the function failed:", error.message);
    return;
  }
  if (state.current?.name !== name || state.busy) return;
  const edit = state.edits.get(name);
  state.current = fresh;
  tailView.fn = fresh;
  for (const view of [chartsView, testerView, kvView, settingsView]) view.setFunction(fresh);
  if (!edit) {
    els.filename.value = fresh.filename;
    // Setting the same code again would move the cursor and the scroll: only when it changed.
    if (editor.value !== fresh.code) editor.value = fresh.code;
    hideEditorError();
  } else if (edit.code === fresh.code && edit.filename === fresh.filename) {
    state.edits.delete(name);
  }
  if (runView.els.empty.hidden === false) runView.idle(fresh);
  upsertFunction(fresh);
  renderHeader();
  if (versions && state.tab === "versions") versionsView.refresh();
}

/** A rollback (or roll forward) made from the Versions pane. */
async function switched(pointer, from) {
  const to = pointer.active;
  toast(`${pointer.name} is now on v${to}`, { detail: `${to < from ? "Rolled back" : "Rolled forward"} from v${from}; runs use v${to} from now on` });
  await syncCurrent({ versions: false }); // the pane already shows the pointer the server gave
  refreshFunctions();
}

function route() {
  const id = routeId();
  if (id) openFunction(id);
  else if (state.current || state.route !== null) showDraft();
}
window.addEventListener("hashchange", route);

// ---------------------------------------------------------------- actions

async function deploy() {
  if (state.busy) return null;
  if (state.current && !isDirty()) return state.current;
  const code = editor.value;
  const filename = els.filename.value.trim() || EXAMPLE_FILENAME;
  if (!code.trim()) {
    showEditorError({ code: "empty", message: "The editor is empty: write a function first." });
    return null;
  }
  if (!FILENAME.test(filename)) {
    showEditorError({ code: "filename", message: "The file name must be a plain name such as index.js (letters, digits, . - _)." });
    els.filename.focus();
    return null;
  }
  // A named function gets a new version; a draft may be given a name to start one.
  const name = state.current ? state.current.name ?? null : els.fnName.value.trim() || null;
  if (name && !validName(name)) {
    showEditorError({ code: "name", message: "A name is 1–63 lowercase letters, digits and hyphens, starting with a letter or digit (e.g. hello-world)." });
    els.fnName.focus();
    return null;
  }
  state.busy = "deploy";
  renderHeader();
  try {
    const answer = await api.deploy(code, filename, name);
    const id = answer.function_id;
    hideEditorError();
    editor.clearMark();
    const previous = state.current;
    if (previous) state.edits.delete(refOf(previous));
    else {
      try {
        localStorage.removeItem(DRAFT_KEY);
      } catch {
        // ignore
      }
    }
    const record = { id, code, filename, size: codeBytes(code), created_at: new Date().toISOString(), last_run: null, url: answer.url ?? null };
    if (answer.name) {
      // One history for every version of a name: the last run stays the last run; the
      // settings the server kept are the previous version's.
      const same = previous?.name === answer.name;
      Object.assign(record, { name: answer.name, version: answer.version, last_run: same ? previous.last_run : null });
      for (const key of answer.kept ?? []) if (same) record[key] = previous[key];
    }
    const ref = refOf(record);
    setCurrent(record);
    state.route = ref;
    const hash = `#/functions/${encodeURIComponent(ref)}`;
    if (location.hash !== hash) history.pushState(null, "", hash);
    upsertFunction(record);
    startTail(record);
    runView.idle(record);
    if (answer.name) {
      const kept = (answer.kept ?? []).map((k) => k.replace("_", " "));
      const keptNote = kept.length ? ` · kept ${kept.join(", ")}` : "";
      toast(`Deployed ${answer.name} v${answer.version}`, { detail: `Active now${keptNote} · function ID ${id}` });
      versionsView.refresh();
    } else {
      toast(`Deployed ${filename}`, { detail: `Function ID ${id}` });
    }
    refreshFunctions();
    return record;
  } catch (error) {
    if (error instanceof ApiError && error.code === "syntax_error") {
      const line = Number(error.details.line);
      if (Number.isInteger(line)) {
        editor.goTo(line, Number(error.details.column) || 1);
        editor.mark(line, "syntax");
      }
    }
    showEditorError(error);
    if (error instanceof NetworkError) health.pollNow();
    return null;
  } finally {
    state.busy = null;
    renderHeader();
  }
}

async function run() {
  if (state.busy) return;
  const fn = await deploy();
  if (!fn) return;
  state.busy = "run";
  renderHeader();
  selectTab("run");
  editor.clearMark();
  const runId = newRunId();
  const ref = refOf(fn);
  runView.start(fn, runId);
  // The log stream opens before the run starts, so its first line is never missed.
  const stream = await openRunStream(ref, runId, (line) => runView.add(line));
  try {
    const result = await api.execute(ref, runId);
    if (stream) await stream.settle(Array.isArray(result.logs) ? result.logs.length : 0, 500);
    runView.finish(result, fn);
    if (result.error && state.current?.id === fn.id && !isDirty() && (!result.function_id || result.function_id === fn.id)) {
      const frame = firstFrame(result.error.stack, fn.filename);
      if (frame) editor.mark(frame.line, "runtime");
    }
    const lastRun = {
      run_id: result.run_id ?? runId,
      at: new Date().toISOString(),
      ok: !result.error,
      execution_time_ms: result.execution_time_ms,
      error_code: result.error?.code ?? null,
    };
    if (refOf(state.current) === ref) state.current.last_run = lastRun;
    upsertFunction({ ...(fn.name ? { name: fn.name } : {}), id: fn.id, last_run: lastRun });
  } catch (error) {
    runView.fail(error);
    if (error instanceof NetworkError) health.pollNow();
  } finally {
    stream?.close();
    state.busy = null;
    renderHeader();
    refreshFunctions();
    // The server answers once the run is in the history: it is there to be listed.
    if (refOf(historyView.fn) === ref) historyView.refresh({ quiet: true });
    if (state.tab === "charts" && refOf(chartsView.fn) === ref) chartsView.refresh({ quiet: true });
  }
}

let deleteTimer = null;
async function removeCurrent() {
  const fn = state.current;
  if (!fn || state.busy) return;
  if (!els.del.classList.contains("confirming")) {
    els.del.classList.add("confirming");
    clearTimeout(deleteTimer);
    deleteTimer = setTimeout(() => els.del.classList.remove("confirming"), 4000);
    return;
  }
  clearTimeout(deleteTimer);
  els.del.classList.remove("confirming");
  const ref = refOf(fn);
  try {
    await api.remove(ref);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) {
      toast("Could not delete the function", { kind: "error", detail: error.message });
      return;
    }
  }
  state.edits.delete(ref);
  state.functions = (state.functions ?? []).filter((item) => refOf(item) !== ref);
  const code = editor.value;
  const filename = els.filename.value;
  history.pushState(null, "", "#/");
  showDraft({ code, filename });
  saveDraft();
  toast(`Deleted ${fn.name ?? fn.filename}`, { detail: fn.name ? "Every version is gone; the code stays in the editor as a draft" : "Its code stays in the editor as a draft" });
  refreshFunctions();
}

els.deploy.addEventListener("click", () => deploy());
els.run.addEventListener("click", () => run());
els.del.addEventListener("click", () => removeCurrent());
els.fnId.addEventListener("click", () => state.current && copyText(state.current.id));
els.newFn.addEventListener("click", () => {
  setDrawer(false);
  if (location.hash && location.hash !== "#/") location.hash = "#/";
  else showDraft();
  editor.textarea.focus();
});
els.fnSearch.addEventListener("input", search);
els.fnSearchBy.addEventListener("change", () => {
  search();
  els.fnSearch.focus();
});
els.fnMore.addEventListener("click", () => loadMore());
// Scrolling to the end of the list loads the next page, as a click on "More" does.
new IntersectionObserver((seen) => {
  if (seen.some((entry) => entry.isIntersecting)) loadMore();
}, { root: els.fnScroll, rootMargin: "0px 0px 200px 0px" }).observe(els.fnMore);
els.fnList.addEventListener("click", (event) => {
  const item = event.target.closest("a.fn-item");
  if (item && item.dataset.ref === refOf(state.current)) setDrawer(false);
});

// ---------------------------------------------------------------- API key

const keyGate = new KeyGate(
  {
    root: $("#key-gate"),
    app: $("#app"),
    form: $("#key-form"),
    title: $("#key-title"),
    text: $("#key-text"),
    input: $("#key-input"),
    reveal: $("#key-reveal"),
    error: $("#key-error"),
    forget: $("#key-forget"),
    cancel: $("#key-cancel"),
    submit: $("#key-submit"),
  },
  {
    onKey: (opened) => {
      renderKeyButton();
      const namespace = opened?.namespace;
      toast("Logged in", { detail: namespace ? `Namespace ${namespace}` : "This browser keeps a session" });
      reconnect();
    },
    onForget: () => {
      renderKeyButton();
      toast("Logged out", { kind: "info", detail: "This browser's session has ended" });
      reconnect();
    },
  },
);
onUnauthorized((problem) => keyGate.open(problem));

function renderKeyButton() {
  const current = session();
  els.keyBtn.hidden = !current?.session;
  const namespace = current?.namespace;
  els.keyLabel.textContent = namespace ?? "API key";
  els.keyBtn.title = namespace ? `Logged in to the namespace ${namespace}: switch keys or log out` : "API key: switch or log out";
}
els.keyBtn.addEventListener("click", () => keyGate.open());

/** Another key: everything the page shows may differ (another namespace), so ask again. */
function reconnect() {
  state.functions = null;
  state.cursor = null;
  renderedList = { key: "", at: 0 };
  els.fnList.replaceChildren();
  renderFunctions();
  refreshFunctions();
  const ref = routeId();
  const fn = state.current;
  stopTail();
  if (ref) {
    setCurrent(null);
    openFunction(ref);
  } else if (fn) startTail(fn);
}

document.addEventListener("keydown", (event) => {
  const mod = event.ctrlKey || event.metaKey;
  if (event.target === editor.textarea) return; // the editor handles its own shortcuts
  if (mod && event.key === "Enter") {
    event.preventDefault();
    run();
  } else if (mod && (event.key === "s" || event.key === "S")) {
    event.preventDefault();
    deploy();
  } else if (event.key === "Escape") setDrawer(false);
});

// ---------------------------------------------------------------- start

if (IS_MAC) {
  document.querySelectorAll("kbd.mod").forEach((kbd) => {
    kbd.textContent = "⌘";
  });
  els.runKbd.textContent = "⌘ ↵";
}
setInterval(() => {
  if (state.functions) renderFunctions();
  renderHeader(); // "deployed 2m ago" keeps its age
}, 30_000);

// A key a dashboard of before sessions left in localStorage is taken out and traded for a
// session first, so that the page's first requests already carry it.
await adoptStoredKey();
api.whoAmI().then(renderKeyButton, () => {});
renderKeyButton();
state.route = undefined;
route();
health.start();
refreshFunctions();
renderHeader();
selectTab("run");
