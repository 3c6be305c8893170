// Polls GET /health. While the server answers, every few seconds; when it does not, with
// exponential backoff, announcing "offline" with a countdown so the page never looks dead.

import { api, NetworkError } from "./api.js";

const HEALTHY_INTERVAL_MS = 3000;
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 8000;

export class HealthMonitor {
  constructor({ onHealth, onOffline, onOnline }) {
    this.onHealth = onHealth;
    this.onOffline = onOffline;
    this.onOnline = onOnline;
    this.online = null; // unknown until the first answer
    this.failures = 0;
    this.timer = null;
    this.countdown = null;
    this.inFlight = false;
    this.nextAt = 0;
  }

  start() {
    this.poll();
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.pollNow();
    });
  }

  pollNow() {
    clearTimeout(this.timer);
    this.poll();
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.nextAt = Date.now() + delay;
    this.timer = setTimeout(() => this.poll(), delay);
  }

  async poll() {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const health = await api.health();
      this.inFlight = false;
      this.failures = 0;
      clearInterval(this.countdown);
      const wasOnline = this.online;
      this.online = true;
      if (wasOnline !== true) this.onOnline?.(wasOnline === false);
      this.onHealth?.(health);
      this.schedule(HEALTHY_INTERVAL_MS);
    } catch (error) {
      this.inFlight = false;
      this.failures += 1;
      this.online = false;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failures - 1));
      this.schedule(delay);
      const reason = error instanceof NetworkError ? error.message : `The server answered ${error.status ?? "with an error"}`;
      const announce = () =>
        this.onOffline?.({ retryInMs: Math.max(0, this.nextAt - Date.now()), attempts: this.failures, reason });
      announce();
      clearInterval(this.countdown);
      this.countdown = setInterval(announce, 500);
    }
  }
}
