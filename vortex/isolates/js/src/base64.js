// atob and btoa (HTML Standard): "forgiving-base64" decoding (ASCII whitespace ignored, padding
// optional, InvalidCharacterError otherwise) and encoding of strings whose characters are bytes.
import { DOMException } from './domexception.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i += 1) VALUE[ALPHABET.charCodeAt(i)] = i;

function invalid(message) {
  return new DOMException(message, 'InvalidCharacterError');
}

export function atob(data) {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'atob': 1 argument required, but only 0 present.");
  let text = String(data).replace(/[\t\n\f\r ]/g, '');
  if (text.length % 4 === 0) text = text.replace(/==?$/, '');
  if (text.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(text)) {
    throw invalid("Failed to execute 'atob': The string to be decoded is not correctly encoded.");
  }
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i += 1) {
    buffer = (buffer << 6) | VALUE[text.charCodeAt(i)];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((buffer >> bits) & 0xff);
    }
  }
  return out;
}

export function btoa(data) {
  if (arguments.length === 0) throw new TypeError("Failed to execute 'btoa': 1 argument required, but only 0 present.");
  const text = String(data);
  if (/[^\0-\u00ff]/.test(text)) {
    throw invalid("Failed to execute 'btoa': The string to be encoded contains characters outside of the Latin1 range.");
  }
  let out = '';
  for (let i = 0; i < text.length; i += 3) {
    const a = text.charCodeAt(i);
    const b = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    const c = i + 2 < text.length ? text.charCodeAt(i + 2) : 0;
    const n = (a << 16) | (b << 8) | c;
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
    out += i + 1 < text.length ? ALPHABET[(n >> 6) & 63] : '=';
    out += i + 2 < text.length ? ALPHABET[n & 63] : '=';
  }
  return out;
}
