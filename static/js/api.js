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

async function request(method, path, { body, headers = {}, timeoutMs = 30_000, accept = [] } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const init = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store", signal: controller.signal };
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
    throw new ApiError(
      response.status,
      typeof error.code === "string" ? error.code : `http_${response.status}`,
      typeof error.message === "string" ? error.message : `${response.status} ${response.statusText}`,
      error,
    );
  }
  return data;
}

const fn = (id) => encodeURIComponent(id);

export const api = {
  /** GET /health; a 503 still carries the pool's state ("unhealthy"). */
  health: () => request("GET", "/health", { timeoutMs: 4000, accept: [503] }),
  listFunctions: () => request("GET", "/functions", { timeoutMs: 10_000 }),
  getFunction: (id) => request("GET", `/functions/${fn(id)}`),
  deploy: (code, filename) => request("POST", "/deploy", { body: { code, filename } }),
  execute: (id, runId) =>
    request("POST", `/execute/${fn(id)}`, { headers: { "X-Vortex-Run-Id": runId }, timeoutMs: 10 * 60_000 }),
  remove: (id) => request("DELETE", `/functions/${fn(id)}`),
};

export function wsUrl(functionId) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/${fn(functionId)}`;
}
