// The HTTP API of Vortex, as the dashboard uses it. Same origin, JSON in and out.

/** The server answered with an error: `code` is the stable API code, e.g. "syntax_error". */
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The server could not be reached at all (down, restarting, network gone). */
export class NetworkError extends Error {
  constructor(message = "Could not reach the Vortex server") {
    super(message);
    this.name = "NetworkError";
  }
}

// ---------------------------------------------------------------- the API key

const KEY_STORAGE = "vortex.apiKey";
let memoryKey = null; // when localStorage is blocked, the key lives as long as the page

/** The API key this browser sends, or null (a server without keys needs none). */
export function apiKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? memoryKey;
  } catch {
    return memoryKey;
  }
}

export function setApiKey(key) {
  memoryKey = key || null;
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage blocked: the key is kept in memory for this page only.
  }
}

/** The namespace a key names in its text (`vx_<namespace>_…`), only to show it. */
export function keyNamespace(key) {
  const match = /^vx_([a-z0-9-]+)_/.exec(key ?? "");
  return match ? match[1] : null;
}

/** Called with the ApiError of every 401/403, so the page can ask for a (better) key. */
let onAuthProblem = null;
export function onUnauthorized(listener) {
  onAuthProblem = listener;
}

async function request(method, path, { body, headers = {}, timeoutMs = 30_000, accept = [], key, quiet = false } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const init = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store", signal: controller.signal };
  const token = key === undefined ? apiKey() : key;
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new NetworkError(controller.signal.aborted ? "The server did not answer in time" : undefined);
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // A proxy's HTML error page, or an empty body: handled below by status.
  }
  if (!response.ok && !accept.includes(response.status)) {
    const error = data && typeof data.error === "object" && data.error ? data.error : {};
    const problem = new ApiError(
      response.status,
      typeof error.code === "string" ? error.code : `http_${response.status}`,
      typeof error.message === "string" ? error.message : `${response.status} ${response.statusText}`,
      error,
    );
    if ((response.status === 401 || response.status === 403) && !quiet) onAuthProblem?.(problem);
    throw problem;
  }
  return data;
}

const fn = (id) => encodeURIComponent(id);

export const api = {
  /** GET /health; a 503 still carries the pool's state ("unhealthy"). */
  health: () => request("GET", "/health", { timeoutMs: 4000, accept: [503] }),
  /** One page, newest first: `{functions, cursor}`; the cursor (null at the end) gives the next. */
  listFunctions: ({ limit, cursor, prefix } = {}) => {
    const query = new URLSearchParams();
    if (limit) query.set("limit", String(limit));
    if (cursor) query.set("cursor", cursor);
    if (prefix) query.set("prefix", prefix);
    const qs = query.toString();
    return request("GET", qs ? `/functions?${qs}` : "/functions", { timeoutMs: 10_000 });
  },
  getFunction: (id) => request("GET", `/functions/${fn(id)}`),
  /** A name makes a new version of the function of that name (and makes it active). */
  deploy: (code, filename, name) => request("POST", "/deploy", { body: name ? { code, filename, name } : { code, filename } }),
  execute: (id, runId) =>
    request("POST", `/execute/${fn(id)}`, { headers: { "X-Vortex-Run-Id": runId }, timeoutMs: 10 * 60_000 }),
  remove: (id) => request("DELETE", `/functions/${fn(id)}`),
  versions: (name) => request("GET", `/functions/${fn(name)}/versions`),
  rollback: (name, to) => request("POST", `/functions/${fn(name)}/rollback`, { body: { to } }),
  runs: (ref) => request("GET", `/functions/${fn(ref)}/runs`),
  runDetail: (ref, runId) => request("GET", `/functions/${fn(ref)}/runs/${fn(runId)}`),
  /** Whether `key` opens this server's API: resolves, or throws the ApiError (quietly). */
  checkKey: (key) => request("GET", "/functions?limit=1", { key, quiet: true, timeoutMs: 10_000 }),
};

export function wsUrl(functionId) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/${fn(functionId)}`;
}

/**
 * A browser cannot set headers on a WebSocket: the key travels as the subprotocol
 * `bearer.<key>`, next to `vortex`, which the server picks (vortex/http/auth.py).
 */
export function openSocket(functionId) {
  const key = apiKey();
  return key ? new WebSocket(wsUrl(functionId), ["vortex", `bearer.${key}`]) : new WebSocket(wsUrl(functionId));
}
