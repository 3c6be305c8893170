// `scheduler.wait(ms, { signal })`, the one method of the WICG Scheduling APIs that Workers have:
// a promise that resolves after `ms`. It is a timer of the run like setTimeout's (the harness
// passes the run's own `setTimer`/`clearTimer`): it counts against the run's timer limit, keeps
// a script's run alive, and is cleared with the rest when the run ends.
import { abortInternals } from './abort.js';
import { EventTarget } from './events.js';

const { addEventListener, removeEventListener } = EventTarget.prototype;

export function makeScheduler(setTimer, clearTimer) {
  function wait(delay, options = undefined) {
    return new Promise((resolve, reject) => {
      const signal = options == null ? undefined : options.signal;
      if (signal !== undefined && !abortInternals.is(signal)) {
        throw new TypeError("Failed to execute 'wait' on 'Scheduler': member signal is not of type AbortSignal.");
      }
      if (signal !== undefined && abortInternals.isAborted(signal)) {
        reject(abortInternals.reason(signal));
        return;
      }
      let id;
      const onAbort = () => {
        clearTimer(id);
        reject(abortInternals.reason(signal));
      };
      id = setTimer(() => {
        if (signal !== undefined) Reflect.apply(removeEventListener, signal, ['abort', onAbort]);
        resolve();
      }, delay);
      if (signal !== undefined) Reflect.apply(addEventListener, signal, ['abort', onAbort, { once: true }]);
    });
  }
  const scheduler = { wait };
  Object.defineProperty(scheduler, Symbol.toStringTag, { value: 'Scheduler' });
  return scheduler;
}
