// The bridge to the host's OpenSSL (vortex/isolates/webcrypto.py). Bytes go as binary strings,
// small binary parameters as base64 in the JSON text; the answer is a tagged bytearray over
// Python's memory, copied at once. An error the host reports becomes a DOMException of its
// name; anything else going wrong on the way becomes an OperationError: no Python text, no
// Python object, ever reaches user code.
import { btoa } from '../base64.js';
import { DOMException } from '../domexception.js';
import { bytesToBinary, utf8Decode } from '../util.js';

const NAMES = ['OperationError', 'DataError', 'NotSupportedError', 'InvalidAccessError'];
let hostCrypto = null;

export function setCryptoHost(call) {
  hostCrypto = call;
}

export function b64(bytes) {
  return btoa(bytesToBinary(bytes));
}

function failed() {
  return new DOMException('The operation failed for an operation-specific reason', 'OperationError');
}

// `bins`: small byte parameters (an iv, a salt...), sent as base64 in the JSON text.
function call(op, params, key, data, bins) {
  const withBins = { ...params };
  if (bins) {
    withBins.bins = {};
    for (const name of Object.keys(bins)) withBins.bins[name] = b64(bins[name]);
  }
  let answer;
  try {
    answer = new Uint8Array(
      hostCrypto(op, JSON.stringify(withBins), key ? bytesToBinary(key) : null, data ? bytesToBinary(data) : null),
    );
  } catch {
    throw failed();
  }
  if (answer.length === 0) throw failed();
  const body = answer.subarray(1);
  if (answer[0] === 0) return new Uint8Array(body);
  let value;
  try {
    value = JSON.parse(utf8Decode(body));
  } catch {
    throw failed();
  }
  if (answer[0] === 1) return value;
  const name = NAMES.includes(value.name) ? value.name : 'OperationError';
  throw new DOMException(String(value.message), name);
}

export function hostBytesResult(op, params, key, data, bins) {
  const out = call(op, params, key, data, bins);
  if (!(out instanceof Uint8Array)) throw failed();
  return out;
}

export function hostJsonResult(op, params, key, data, bins) {
  const out = call(op, params, key, data, bins);
  if (out instanceof Uint8Array || typeof out !== 'object' || out === null) throw failed();
  return out;
}
