// Called by the host for frames from the supervisor: fetch results, binding answers, a limit.
import { JSON, api, runs } from './platform.js';
import { fail, settleLater } from './ending.js';
import { bindingError } from './bindings.js';

export function deliver(id, fid, resultJson, bodyBytes) {
  const state = runs.get(id);
  if (!state) return;
  if (state.fetcher !== null) state.fetcher.deliver(fid, resultJson, bodyBytes);
  // A module run does not wait for its fetches (only for its response, waitUntil promises
  // and binding calls, which check for themselves): no check for it.
  if (!state.module) settleLater(state);
}

export function fetchChunk(id, fid, bytes) {
  const state = runs.get(id);
  if (!state || state.fetcher === null) return;
  state.fetcher.chunk(fid, bytes);
  if (!state.module) settleLater(state);
}

export function fetchEnd(id, fid, error) {
  const state = runs.get(id);
  if (!state || state.fetcher === null) return;
  state.fetcher.end(fid, error);
  if (!state.module) settleLater(state);
}

export function answer(id, cid, answerJson, bodyBytes) {
  const state = runs.get(id);
  if (!state) return;
  const pending = state.calls.get(cid);
  if (pending === undefined) return;
  state.calls.delete(cid);
  const answered = JSON.parse(api.hostText(answerJson));
  if (answered.error) pending.reject(bindingError(String(answered.error.code), String(answered.error.message)));
  else pending.resolve({ result: answered.result === undefined ? null : answered.result, bytes: api.hostBytes(bodyBytes) });
  settleLater(state);
}

export function drained(id) {
  const state = runs.get(id);
  if (state === undefined || state.drain === null) return;
  const resolve = state.drain;
  state.drain = null;
  resolve();
}

export function abort(id, code, message) {
  const state = runs.get(id);
  if (state) fail(state, code, message);
}
