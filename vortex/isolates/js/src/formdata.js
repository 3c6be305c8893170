// FormData (XMLHttpRequest Standard) and its two body encodings both ways: a FormData body is
// sent as multipart/form-data (HTML's encoding algorithm), and `formData()` reads
// multipart/form-data or application/x-www-form-urlencoded bodies.
import { URLSearchParams } from './searchparams.js';
import { Blob, File, blobBytes } from './blob.js';
import { hooks } from './hooks.js';
import { bytesToBinary, concatBytes, utf8Decode, utf8DecodeKeepingBOM, utf8Encode } from './util.js';

// A USVString: lone surrogates become U+FFFD, as WebIDL converts.
function usv(value) {
  return String(value).toWellFormed();
}

function entryValue(value, filename, argumentCount) {
  if (!(value instanceof Blob)) {
    if (argumentCount > 2) {
      throw new TypeError("Failed to execute 'append' on 'FormData': parameter 2 is not of type 'Blob'.");
    }
    return usv(value);
  }
  if (filename === undefined && value instanceof File) return value;
  const name = filename === undefined ? 'blob' : usv(filename);
  const options = { type: value.type };
  if (value instanceof File) options.lastModified = value.lastModified;
  return new File([value], name, options);
}

let entriesOf;

export class FormData {
  #entries = [];

  constructor(form = undefined) {
    if (form !== undefined) {
      throw new TypeError("Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.");
    }
  }

  append(name, value, filename = undefined) {
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'append' on 'FormData': 2 arguments required, but only ${arguments.length} present.`);
    this.#entries.push([usv(name), entryValue(value, filename, arguments.length)]);
  }

  set(name, value, filename = undefined) {
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'set' on 'FormData': 2 arguments required, but only ${arguments.length} present.`);
    const key = usv(name);
    const entry = [key, entryValue(value, filename, arguments.length)];
    const first = this.#entries.findIndex(([k]) => k === key);
    if (first === -1) {
      this.#entries.push(entry);
      return;
    }
    this.#entries = this.#entries.filter(([k], i) => k !== key || i === first);
    this.#entries[first] = entry;
  }

  delete(name) {
    const key = usv(name);
    this.#entries = this.#entries.filter(([k]) => k !== key);
  }

  get(name) {
    const key = usv(name);
    const found = this.#entries.find(([k]) => k === key);
    return found === undefined ? null : found[1];
  }

  getAll(name) {
    const key = usv(name);
    return this.#entries.filter(([k]) => k === key).map(([, v]) => v);
  }

  has(name) {
    const key = usv(name);
    return this.#entries.some(([k]) => k === key);
  }

  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') throw new TypeError("Failed to execute 'forEach' on 'FormData': parameter 1 is not of type 'Function'.");
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  *entries() {
    // Live, as WebIDL's iterators are: entries added while iterating are seen.
    for (let i = 0; i < this.#entries.length; i++) yield [...this.#entries[i]];
  }

  *keys() {
    for (const [key] of this.entries()) yield key;
  }

  *values() {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  static {
    entriesOf = (form) => form.#entries;
  }
}
Object.defineProperty(FormData.prototype, Symbol.toStringTag, { value: 'FormData', configurable: true });

// ---- multipart/form-data: serialising -------------------------------------------------------

function escapeQuoted(text) {
  return text.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
}

function crlf(text) {
  return text.replace(/\r(?!\n)|(?<!\r)\n/g, '\r\n');
}

function newBoundary() {
  const random = hooks.randomBytes(12);
  let hex = '';
  for (const byte of random) hex += byte.toString(16).padStart(2, '0');
  return '----VortexFormBoundary' + hex;
}

// [bytes, content type] of a FormData body.
export function serializeFormData(form) {
  const boundary = newBoundary();
  const contentType = `multipart/form-data; boundary=${boundary}`;
  // No entries, no body: what browsers send (and WPT's fetch/api tests expect).
  if (entriesOf(form).length === 0) return [new Uint8Array(0), contentType];
  const chunks = [];
  let total = 0;
  const add = (bytes) => {
    chunks.push(bytes);
    total += bytes.length;
  };
  for (const [name, value] of entriesOf(form)) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(crlf(name))}"`;
    if (typeof value === 'string') {
      add(utf8Encode(head + '\r\n\r\n' + crlf(value) + '\r\n'));
      continue;
    }
    head += `; filename="${escapeQuoted(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`;
    add(utf8Encode(head));
    add(blobBytes(value));
    add(utf8Encode('\r\n'));
  }
  add(utf8Encode(`--${boundary}--\r\n`));
  return [concatBytes(chunks, total), contentType];
}

// ---- reading a body as FormData -------------------------------------------------------------

function parseFailed(why) {
  return new TypeError(`Failed to parse body as FormData: ${why}`);
}

function mimeEssence(contentType) {
  return contentType === null ? '' : contentType.split(';')[0].trim().toLowerCase();
}

function boundaryOf(contentType) {
  const match = /;\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(contentType);
  if (match === null) return null;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
}

// A header's parameter (name="..."), in the part's headers decoded as UTF-8.
function parameter(header, name) {
  const pattern = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i');
  const match = pattern.exec(header);
  if (match === null) return null;
  return match[1] !== undefined ? match[1].replace(/\\(["\\])/g, '$1') : match[2].trim();
}

function parseMultipart(bytes, boundary) {
  // Searched as a binary string (one char per byte): the engine's indexOf, and offsets that are
  // byte offsets into `bytes`.
  const text = bytesToBinary(bytes);
  const delimiter = '--' + boundary;
  const form = new FormData();
  let at = text.startsWith(delimiter) ? 0 : text.indexOf('\r\n' + delimiter);
  if (at === -1) throw parseFailed('no boundary found');
  at = text.indexOf(delimiter, at) + delimiter.length;
  for (;;) {
    if (text.startsWith('--', at)) return form; // the closing delimiter
    const lineEnd = text.indexOf('\r\n', at);
    if (lineEnd === -1) throw parseFailed('a boundary line is cut off');
    const headEnd = text.indexOf('\r\n\r\n', lineEnd);
    const next = text.indexOf('\r\n' + delimiter, lineEnd);
    if (next === -1) throw parseFailed('the closing boundary is missing');
    let headers = '';
    let bodyStart = lineEnd + 2;
    if (headEnd !== -1 && headEnd < next) {
      headers = utf8Decode(bytes.subarray(lineEnd + 2, headEnd));
      bodyStart = headEnd + 4;
    } else if (!text.startsWith('\r\n', lineEnd + 2)) {
      throw parseFailed('a part has no blank line after its headers');
    } else {
      bodyStart = lineEnd + 4;
    }
    addPart(form, headers, bytes.subarray(bodyStart, Math.max(bodyStart, next)));
    at = next + 2 + delimiter.length;
  }
}

function addPart(form, headers, content) {
  let disposition = null;
  let type = '';
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') type = value;
  }
  if (disposition === null || mimeEssence(disposition) !== 'form-data') {
    throw parseFailed('a part has no Content-Disposition: form-data header');
  }
  const name = parameter(disposition, 'name');
  if (name === null) throw parseFailed('a part has no name');
  const filename = parameter(disposition, 'filename');
  if (filename === null) {
    form.append(name, utf8Decode(content));
    return;
  }
  form.append(name, new File([content], filename, { type }));
}

function parseUrlencoded(bytes) {
  const form = new FormData();
  for (const [name, value] of new URLSearchParams(utf8DecodeKeepingBOM(bytes))) form.append(name, value);
  return form;
}

// The FormData of a body's bytes, by its Content-Type (null when there is none).
export function parseFormData(bytes, contentType) {
  const essence = mimeEssence(contentType);
  if (essence === 'multipart/form-data') {
    const boundary = boundaryOf(contentType);
    if (boundary === null || boundary === '') throw parseFailed('the multipart/form-data Content-Type has no boundary');
    return parseMultipart(bytes, boundary);
  }
  if (essence === 'application/x-www-form-urlencoded') return parseUrlencoded(bytes);
  throw new TypeError(`Failed to parse body as FormData: the Content-Type is ${contentType === null ? 'missing' : `"${contentType}"`}, neither multipart/form-data nor application/x-www-form-urlencoded`);
}
