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

// ---------------------------------------------------------------- the session

// A server with API keys: the page posts a key once (POST /session) and keeps nothing of it. The
// server answers with a session cookie that is HttpOnly (no script, this one included, can read
// it) and a CSRF token, readable in a cookie of its own, that every request carries back in
// X-Vortex-CSRF, and every WebSocket as the subprotocol `csrf.<token>`: a page of another origin
// can make the browser send the cookie, never the token (vortex/http/session_cookies.py).

const CSRF_COOKIES = ["__Host-vortex_csrf", "vortex_csrf"];
const OLD_KEY_STORAGE = "vortex.apiKey"; // where dashboards before sessions kept the key itself

/** The session's CSRF token, or null (no session: a server without keys needs none). */
export function csrfToken() {
  const cookies = new Map(
    document.cookie.split(";").map((part) => {
      const at = part.indexOf("=");
      return at < 0 ? [part.trim(), ""] : [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    }),
  );
  for (const name of CSRF_COOKIES) if (cookies.get(name)) return cookies.get(name);
  return null;
}

let current = null; // what /session last said: {namespace, key_id, session, ...}, or null

/** Who this browser is to the server: `{namespace, key_id, session}`, or null when unknown. */
export function session() {
  return current;
}

/** Called with the ApiError of every 401/403, so the page can ask for a (better) key. */
let onAuthProblem = null;
export function onUnauthorized(listener) {
  onAuthProblem = listener;
}

async function request(method, path, { body, headers = {}, timeoutMs = 30_000, accept = [], quiet = false } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const init = {
    method,
    headers: { Accept: "application/json", ...headers },
    cache: "no-store",
    credentials: "same-origin",
    signal: controller.signal,
  };
  const csrf = csrfToken();
  if (csrf) init.headers["X-Vortex-CSRF"] = csrf;
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
  listFunctions: ({ limit, cursor, prefix, file } = {}) => {
    const query = new URLSearchParams();
    if (limit) query.set("limit", String(limit));
    if (cursor) query.set("cursor", cursor);
    if (prefix) query.set("prefix", prefix);
    if (file) query.set("file", file);
    const qs = query.toString();
    return request("GET", qs ? `/functions?${qs}` : "/functions", { timeoutMs: 10_000 });
  },
  getFunction: (id) => request("GET", `/functions/${fn(id)}`),
  /** A name makes a new version of the function of that name (and makes it active). */
  deploy: (code, filename, name) => request("POST", "/deploy", { body: name ? { code, filename, name } : { code, filename } }),
  /** A deploy with settings: `body` as POST /deploy takes it (code or files, name, env, ...). */
  deployWith: (body) => request("POST", "/deploy", { body }),
  execute: (id, runId) =>
    request("POST", `/execute/${fn(id)}`, { headers: { "X-Vortex-Run-Id": runId }, timeoutMs: 10 * 60_000 }),
  remove: (id) => request("DELETE", `/functions/${fn(id)}`),
  versions: (name) => request("GET", `/functions/${fn(name)}/versions`),
  rollback: (name, to) => request("POST", `/functions/${fn(name)}/rollback`, { body: { to } }),
  runs: (ref) => request("GET", `/functions/${fn(ref)}/runs`),
  runDetail: (ref, runId) => request("GET", `/functions/${fn(ref)}/runs/${fn(runId)}`),
  /** Logs this browser in with `key`: resolves to the session, or throws the ApiError (quietly). */
  logIn: async (key) => {
    current = await request("POST", "/session", { body: { key }, quiet: true, timeoutMs: 10_000 });
    return current;
  },
  /** Ends this browser's session (the server forgets it and clears the cookies). */
  logOut: async () => {
    try {
      await request("DELETE", "/session", { quiet: true, timeoutMs: 10_000 });
    } finally {
      current = null;
    }
  },
  /** Who this browser is (`GET /session`), or null when the server wants a key first. */
  whoAmI: async () => {
    try {
      current = await request("GET", "/session", { quiet: true, timeoutMs: 10_000 });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      current = null;
    }
    return current;
  },
  /** Charts: `window` "hour" (a point a minute) or "day" (every ten minutes). */
  stats: (ref, window) => request("GET", `/functions/${fn(ref)}/stats?window=${fn(window)}`, { timeoutMs: 15_000 }),
  kvList: (ref, { prefix, cursor, limit } = {}) => {
    const query = new URLSearchParams();
    if (prefix) query.set("prefix", prefix);
    if (cursor) query.set("cursor", cursor);
    if (limit) query.set("limit", String(limit));
    const qs = query.toString();
    return request("GET", `/functions/${fn(ref)}/kv${qs ? `?${qs}` : ""}`);
  },
  kvGet: (ref, key) => request("GET", `/functions/${fn(ref)}/kv/value?key=${fn(key)}`),
  /** `extra`: `encoding` ("base64" for bytes) and `metadata`, kept as they were read. */
  kvPut: (ref, key, value, ttlSeconds, extra = {}) =>
    request("PUT", `/functions/${fn(ref)}/kv/value?key=${fn(key)}`, {
      body: { value, ...extra, ...(ttlSeconds ? { expiration_ttl: ttlSeconds } : {}) },
    }),
  kvDelete: (ref, key) => request("DELETE", `/functions/${fn(ref)}/kv/value?key=${fn(key)}`),
  /** The request tester: the server sends it to the function's URL and answers with the response. */
  sendRequest: (ref, { method, path, headers, body }) =>
    request("POST", `/functions/${fn(ref)}/request`, { body: { method, path, headers, body }, timeoutMs: 90_000 }),
};

/**
 * A key kept by a dashboard of before sessions: it is taken out of localStorage at once and, if
 * it still opens the server, traded for a session. Resolves to the session, or null.
 */
export async function adoptStoredKey() {
  let key = null;
  try {
    key = localStorage.getItem(OLD_KEY_STORAGE);
    localStorage.removeItem(OLD_KEY_STORAGE);
  } catch {
    return null; // storage blocked: nothing was kept there either
  }
  if (!key) return null;
  try {
    return await api.logIn(key);
  } catch {
    return null;
  }
}

export function wsUrl(functionId) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/${fn(functionId)}`;
}

/**
 * A browser sends the session cookie with a WebSocket's handshake but cannot set headers on it:
 * the CSRF token travels as the subprotocol `csrf.<token>`, next to `vortex`, which the server
 * picks (vortex/http/session_cookies.py).
 */
export function openSocket(functionId) {
  const csrf = csrfToken();
  return csrf ? new WebSocket(wsUrl(functionId), ["vortex", `csrf.${csrf}`]) : new WebSocket(wsUrl(functionId));
}
