// WebSockets to /ws/{id}: a one-shot stream for one run, and a tail that reconnects with backoff.

import { openSocket } from "./api.js";

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8000;

export function backoffDelay(attempt) {
  const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}

function parseLine(data) {
  try {
    const line = JSON.parse(data);
    return line && typeof line === "object" ? line : null;
  } catch {
    return null;
  }
}

/**
 * Opens the log stream of a function before a run starts, so the run's first line is not missed.
 * Resolves to a stream once the socket is open, or to null if it cannot open in time (the run
 * then shows its logs from the response). `onLine` gets only lines of `runId`.
 */
export function openRunStream(functionId, runId, onLine, openTimeoutMs = 2500) {
  return new Promise((resolve) => {
    let socket;
    try {
      socket = openSocket(functionId);
    } catch {
      resolve(null);
      return;
    }
    const waiters = new Set();
    const stream = {
      count: 0,
      closed: false,
      /** Wait until `n` lines arrived (the response's count) or `ms` passed. */
      settle(n, ms) {
        return new Promise((done) => {
          if (stream.count >= n || stream.closed) return done();
          const finish = () => {
            clearTimeout(timer);
            waiters.delete(check);
            done();
          };
          const check = () => {
            if (stream.count >= n || stream.closed) finish();
          };
          const timer = setTimeout(finish, ms);
          waiters.add(check);
        });
      },
      close() {
        stream.closed = true;
        socket.onclose = socket.onerror = socket.onmessage = null;
        if (socket.readyState <= WebSocket.OPEN) socket.close(1000);
      },
    };
    const wake = () => waiters.forEach((check) => check());
    const timer = setTimeout(() => {
      stream.close();
      resolve(null);
    }, openTimeoutMs);
    socket.onopen = () => {
      clearTimeout(timer);
      resolve(stream);
    };
    socket.onmessage = (event) => {
      const line = parseLine(event.data);
      if (!line || line.run_id !== runId) return;
      stream.count += 1;
      onLine(line);
      wake();
    };
    socket.onerror = socket.onclose = () => {
      clearTimeout(timer);
      stream.closed = true;
      wake();
      resolve(null);
    };
  });
}

/**
 * The live tail of one function: every line of every run, reconnecting with exponential
 * backoff when the server goes away. States: connecting, live, reconnecting, gone, stopped.
 */
export class TailSocket {
  constructor(functionId, { onLine, onState, checkExists }) {
    this.functionId = functionId;
    this.onLine = onLine;
    this.onState = onState;
    this.checkExists = checkExists;
    this.socket = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.countdown = null;
    this.stopped = false;
    this.retryAt = 0;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.clearTimers();
    if (this.socket) {
      const socket = this.socket;
      socket.onopen = socket.onclose = socket.onerror = socket.onmessage = null;
      if (socket.readyState <= WebSocket.OPEN) socket.close(1000);
      this.socket = null;
    }
    this.emit("stopped");
  }

  /** Reconnect now (the server is back, or the user asked). */
  kick() {
    if (this.stopped || (this.socket && this.socket.readyState <= WebSocket.OPEN)) return;
    this.clearTimers();
    this.attempt = 0;
    this.connect();
  }

  emit(state, extra = {}) {
    this.state = state;
    this.onState?.(state, extra);
  }

  clearTimers() {
    clearTimeout(this.retryTimer);
    clearInterval(this.countdown);
    this.retryTimer = this.countdown = null;
  }

  connect() {
    if (this.stopped) return;
    this.emit(this.attempt === 0 ? "connecting" : "reconnecting", { retryInMs: 0 });
    let socket;
    try {
      socket = openSocket(this.functionId);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.emit("live");
    };
    socket.onmessage = (event) => {
      const line = parseLine(event.data);
      if (line) this.onLine(line);
    };
    socket.onerror = () => {};
    socket.onclose = async (event) => {
      socket.onopen = socket.onclose = socket.onerror = socket.onmessage = null;
      if (this.socket === socket) this.socket = null;
      if (this.stopped) return;
      if (!opened && this.checkExists) {
        // A refused upgrade can mean the function was deleted: ask once before retrying.
        const exists = await this.checkExists(this.functionId);
        if (this.stopped) return;
        if (exists === false) {
          this.emit("gone");
          return;
        }
      }
      this.scheduleRetry(event.code);
    };
  }

  scheduleRetry(closeCode) {
    if (this.stopped) return;
    // 4008: the server dropped us as a slow reader; reconnecting at once is the right answer.
    const delay = closeCode === 4008 ? 0 : backoffDelay(this.attempt);
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    const tick = () => this.emit("reconnecting", { retryInMs: Math.max(0, this.retryAt - Date.now()) });
    tick();
    this.clearTimers();
    this.countdown = setInterval(tick, 1000);
    this.retryTimer = setTimeout(() => {
      this.clearTimers();
      this.connect();
    }, delay);
  }
}
