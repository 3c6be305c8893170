// env.BUCKET: an R2 bucket the deploy declared ("r2_buckets"), answered by the server
// (vortex/r2/binding.py), shaped as Workers' R2 binding: get, head, put, delete, list, with
// R2Object and R2ObjectBody. The bytes of a put cross whole as the call's body, and those of a
// get as the answer's (docs/r2.md: why objects have a size limit below R2's).
import { Date, api } from './platform.js';
import { bindingError, callBinding } from './bindings.js';
import { sharedGlobal } from './sharedglobal.js';

const HTTP_HEADERS = [
  ['contentType', 'content-type'],
  ['contentLanguage', 'content-language'],
  ['contentDisposition', 'content-disposition'],
  ['contentEncoding', 'content-encoding'],
  ['cacheControl', 'cache-control'],
];

function hexOf(bytes) {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

function bytesOfHex(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function millis(value, what) {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date || (typeof value === 'object' && typeof value.getTime === 'function')) return value.getTime();
  if (typeof value === 'number') return value;
  throw new TypeError(what + ' must be a Date');
}

// onlyIf: an R2Conditional, or a Headers of If-Match etc. (HTTP dates: whole seconds).
function conditional(onlyIf) {
  if (onlyIf === undefined || onlyIf === null) return undefined;
  if (onlyIf instanceof sharedGlobal.Headers) {
    const out = { secondsGranularity: true };
    const since = (name) => {
      const text = onlyIf.get(name);
      const time = text === null ? NaN : Date.parse(text);
      return Number.isNaN(time) ? undefined : time;
    };
    if (onlyIf.get('if-match') !== null) out.etagMatches = onlyIf.get('if-match');
    if (onlyIf.get('if-none-match') !== null) out.etagDoesNotMatch = onlyIf.get('if-none-match');
    out.uploadedBefore = since('if-unmodified-since');
    out.uploadedAfter = since('if-modified-since');
    return out;
  }
  if (typeof onlyIf !== 'object') throw new TypeError('onlyIf must be an R2Conditional or a Headers');
  return {
    etagMatches: onlyIf.etagMatches,
    etagDoesNotMatch: onlyIf.etagDoesNotMatch,
    uploadedBefore: millis(onlyIf.uploadedBefore, 'onlyIf.uploadedBefore'),
    uploadedAfter: millis(onlyIf.uploadedAfter, 'onlyIf.uploadedAfter'),
    secondsGranularity: onlyIf.secondsGranularity === true,
  };
}

// range: {offset, length}, {suffix}, or a Headers with a Range of one bytes range.
function rangeOf(range) {
  if (range === undefined || range === null) return undefined;
  if (range instanceof sharedGlobal.Headers) {
    const text = range.get('range');
    if (text === null) return undefined;
    const match = /^bytes=(\d*)-(\d*)$/.exec(text.trim());
    if (!match || (match[1] === '' && match[2] === '')) throw new TypeError('range: only one "bytes=a-b" range is supported');
    if (match[1] === '') return { suffix: Number(match[2]) };
    const offset = Number(match[1]);
    return match[2] === '' ? { offset } : { offset, length: Number(match[2]) - offset + 1 };
  }
  if (typeof range !== 'object') throw new TypeError('range must be {offset, length}, {suffix} or a Headers');
  return { offset: range.offset, length: range.length, suffix: range.suffix };
}

function httpMetadataOf(value) {
  if (value === undefined || value === null) return undefined;
  if (value instanceof sharedGlobal.Headers) {
    const out = {};
    for (const [field, header] of HTTP_HEADERS) {
      if (value.get(header) !== null) out[field] = value.get(header);
    }
    const expires = value.get('expires');
    if (expires !== null && !Number.isNaN(Date.parse(expires))) out.cacheExpiry = Date.parse(expires);
    return out;
  }
  if (typeof value !== 'object') throw new TypeError('httpMetadata must be an object or a Headers');
  return { ...value, cacheExpiry: millis(value.cacheExpiry, 'httpMetadata.cacheExpiry') };
}

function makeObject(shape, extra) {
  const http = { ...shape.httpMetadata };
  if (http.cacheExpiry !== undefined) http.cacheExpiry = new Date(http.cacheExpiry);
  const md5 = bytesOfHex(shape.checksums.md5);
  const object = {
    key: shape.key,
    version: shape.version,
    size: shape.size,
    etag: shape.etag,
    httpEtag: '"' + shape.etag + '"',
    uploaded: new Date(shape.uploaded),
    httpMetadata: http,
    customMetadata: { ...shape.customMetadata },
    checksums: { md5: md5.buffer, toJSON: () => ({ md5: shape.checksums.md5 }) },
    storageClass: 'Standard',
    writeHttpMetadata(headers) {
      for (const [field, header] of HTTP_HEADERS) {
        if (http[field] !== undefined) headers.set(header, http[field]);
      }
      if (http.cacheExpiry !== undefined) headers.set('expires', http.cacheExpiry.toUTCString());
    },
  };
  // Descriptors, not a spread: a spread would read body and bodyUsed once, now.
  return Object.defineProperties(object, Object.getOwnPropertyDescriptors(extra));
}

function makeBody(shape, bytes, range) {
  const response = new sharedGlobal.Response(bytes);
  const type = shape.httpMetadata.contentType || '';
  const extra = {
    get body() {
      return response.body;
    },
    get bodyUsed() {
      return response.bodyUsed;
    },
    arrayBuffer: () => response.arrayBuffer(),
    text: () => response.text(),
    json: () => response.json(),
    bytes: () => response.arrayBuffer().then((buffer) => new Uint8Array(buffer)),
    blob: () => response.arrayBuffer().then((buffer) => new sharedGlobal.Blob([buffer], { type })),
  };
  if (range !== undefined) extra.range = range;
  return makeObject(shape, extra);
}

export function makeR2(live, name, describe) {
  const maxBytes = Number(describe.max_object_bytes) || Infinity;
  const call = (op, args, body) => callBinding(live(), 'r2:' + name, op, args, body);
  const tooLarge = () =>
    bindingError('r2_object_too_large', 'put: Your proposed upload exceeds the maximum allowed object size of ' + maxBytes + ' bytes (100100)');
  // What a put sends: the bytes, copied now (later writes to the caller's buffer change
  // nothing), or a promise of them for a stream or a Blob.
  const bytesOf = (value) => {
    if (value === null || value === undefined) return new Uint8Array(0);
    if (typeof value === 'string') {
      if (value.length > maxBytes) throw tooLarge();
      return new sharedGlobal.TextEncoder().encode(value);
    }
    if (api.isBufferSource(value)) return api.copyBytes(value);
    if (value instanceof sharedGlobal.Blob) return value.arrayBuffer().then((buffer) => new Uint8Array(buffer));
    if (value instanceof api.ReadableStream) {
      return api.readAllChunks(value, maxBytes).catch((error) => {
        throw error instanceof RangeError ? tooLarge() : error;
      });
    }
    throw new TypeError('put: the value must be a string, an ArrayBuffer or view, a Blob, a ReadableStream or null');
  };
  const attempt = (run) => {
    try {
      return run();
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return harden({
    head(key) {
      return call('head', { key }).then((answer) => (answer.result === null ? null : harden(makeObject(answer.result, {}))));
    },
    get(key, options) {
      return attempt(() => {
        const o = options || {};
        const args = { key, onlyIf: conditional(o.onlyIf), range: rangeOf(o.range) };
        return call('get', args).then((answer) => {
          const result = answer.result;
          if (result === null) return null;
          if (!result.body) return harden(makeObject(result.object, {}));
          return makeBody(result.object, answer.bytes, result.range);
        });
      });
    },
    put(key, value, options) {
      return attempt(() => {
        const o = options || {};
        let md5 = o.md5;
        if (md5 !== undefined && typeof md5 !== 'string') md5 = hexOf(api.copyBytes(md5));
        const args = {
          key,
          httpMetadata: httpMetadataOf(o.httpMetadata),
          customMetadata: o.customMetadata,
          onlyIf: conditional(o.onlyIf),
          md5,
        };
        const send = (bytes) => {
          if (bytes.length > maxBytes) throw tooLarge();
          return call('put', args, bytes).then((answer) => (answer.result === null ? null : harden(makeObject(answer.result, {}))));
        };
        const bytes = bytesOf(value);
        return bytes instanceof Promise ? bytes.then(send) : send(bytes);
      });
    },
    delete(keys) {
      return call('delete', { keys: Array.isArray(keys) ? Array.from(keys) : keys }).then(() => undefined);
    },
    list(options) {
      const o = options || {};
      const args = {
        prefix: o.prefix,
        cursor: o.cursor,
        limit: o.limit,
        delimiter: o.delimiter,
        startAfter: o.startAfter,
        include: o.include === undefined ? undefined : Array.from(o.include),
      };
      return call('list', { options: args }).then((answer) => {
        const page = answer.result;
        const out = {
          objects: page.objects.map((shape) => harden(makeObject(shape, {}))),
          truncated: page.truncated,
          delimitedPrefixes: page.delimitedPrefixes,
        };
        if (page.cursor !== undefined) out.cursor = page.cursor;
        return out;
      });
    },
    createMultipartUpload() {
      return Promise.reject(
        bindingError('r2_not_supported', 'createMultipartUpload: multipart uploads are not supported by Vortex (docs/r2.md): put the object whole'),
      );
    },
    resumeMultipartUpload() {
      throw bindingError('r2_not_supported', 'resumeMultipartUpload: multipart uploads are not supported by Vortex (docs/r2.md)');
    },
  });
}
