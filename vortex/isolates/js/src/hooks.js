// What the shared classes need from the run that is using them. The classes are created once per
// host and shared by every run, so anything that belongs to one run (its timers, its error
// reporting, its clock) is reached through these hooks, which the harness sets once at boot to
// functions that look the current run up. User code never sees this object.
export const hooks = {
  // Reports an exception thrown by a listener or a microtask, as a browser reports it to `onerror`.
  reportError(error) {
    throw error;
  },
  // Schedules `callback` on the current run's own timers (cleared when the run ends) and
  // returns a function that cancels it; such a timer does not keep the run alive.
  runTimer(callback, ms) {
    throw new Error('no run is active');
  },
  // A timer of the current run's own, as setTimeout's is: it counts against the run's timer limit
  // and keeps a script's run alive until it fires. Returns a function that cancels it.
  keepAliveTimer(callback, ms) {
    throw new Error('no run is active');
  },
  // The current run's fetch(), as the run's global has it before user code can replace it.
  fetch(input, init) {
    throw new Error('no run is active');
  },
  // Counts a message posted to a MessagePort against the current run's timer limit (or throws
  // the run's limit error) and returns what gives its place back once it is delivered or dropped.
  holdDelivery() {
    return () => {};
  },
  // An id of the run whose turn it is (never reused in a host), or null between runs.
  currentRun() {
    return null;
  },
  // Milliseconds since the current run started.
  now() {
    return 0;
  },
  // `n` bytes from the operating system's random source.
  randomBytes(n) {
    throw new Error('no random source');
  },
};

export function configure(overrides) {
  for (const key of Object.keys(hooks)) {
    if (typeof overrides[key] === 'function') hooks[key] = overrides[key];
  }
}
