// The WebSocket of a run (a 101 Response's webSocket): what the kept end sends goes to the host
// (bridge.py `ws_send`, `ws_close`), and the client's messages and close come back here from the
// host (`wsMessage`, `wsClosing`, `wsClosed`), each in a turn of the run, so that its CPU limit
// and interrupts apply to every message handler.
import { api, host, runs } from './platform.js';
import { describeThrown, errorLine, writeLog } from './logs.js';
import { settleLater } from './ending.js';

const INTERNAL_ERROR = 1011;

export function socketWire(state) {
  return {
    send(text, binary) {
      if (!state.done) host.wsSend(state.id, text, binary);
    },
    close(code, reasonBinary) {
      if (!state.done) host.wsClose(state.id, code, reasonBinary);
    },
    // A listener of the kept end threw: logged, the run fails, and the socket closes with 1011
    // (the run ends once it has).
    failed(err) {
      if (state.done) return;
      if (state.lateError === null) state.lateError = describeThrown(state, err);
      try {
        writeLog(state, 'error', 'Uncaught (in a WebSocket listener) ' + errorLine(state, err));
      } catch (e) {
        return; // the log limit ended the run
      }
      api.failSocket(state.socket, INTERNAL_ERROR, 'Internal Error');
    },
  };
}

function socketOf(id) {
  const state = runs.get(id);
  return state === undefined || state.done || state.socket === null ? undefined : state;
}

function over(state) {
  if (!state.socketOpen) return;
  state.socketOpen = false;
  // What the close listeners chained runs before the run may end.
  settleLater(state);
}

export function wsMessage(id, text, bytes) {
  const state = socketOf(id);
  if (state !== undefined && state.socketOpen) api.socketReceived(state.socket, text === true, api.hostBytes(bytes));
}

export function wsClosing(id, code, reasonBytes) {
  const state = socketOf(id);
  if (state === undefined) return;
  api.socketClosing(state.socket, code, api.hostText(reasonBytes));
  over(state);
}

export function wsClosed(id, code, reasonBytes, clean) {
  const state = socketOf(id);
  if (state === undefined) return;
  api.socketClosed(state.socket, code, api.hostText(reasonBytes), clean === true);
  over(state);
}
