// console formatting, close to Node's util.inspect: strings as they are at the top level, objects
// and arrays readably over several lines past 72 characters, %s %d %i %f %j %o %O %c substitutions.
import { userStack } from './errors.js';

const MAX_DEPTH = 2;
const BREAK_LENGTH = 72;

function quote(s) {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n') + "'";
}

function keyText(key) {
  if (typeof key === 'symbol') return '[' + String(key) + ']';
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : quote(key);
}

function fnText(fn) {
  const src = Function.prototype.toString.call(fn);
  const name = fn.name;
  if (/^class\b/.test(src)) return '[class ' + (name || '(anonymous)') + ']';
  return name ? '[Function: ' + name + ']' : '[Function (anonymous)]';
}

function joinParts(open, parts, close, indent) {
  if (parts.length === 0) return open + close;
  const single = open + ' ' + parts.join(', ') + ' ' + close;
  if (single.length <= BREAK_LENGTH && !single.includes('\n')) return single;
  const pad = '  '.repeat(indent + 1);
  return open + '\n' + pad + parts.join(',\n' + pad) + '\n' + '  '.repeat(indent) + close;
}

// `where` says how to show an error's stack ({filename, firstLineShift}, see errors.js).
export function makeInspector(where) {
  function errorText(err) {
    const stack = userStack(err, where);
    return stack || String(err.name) + ': ' + String(err.message);
  }

  function ownEntries(obj, depth, seen, indent) {
    const parts = [];
    for (const key of Reflect.ownKeys(obj)) {
      const desc = Reflect.getOwnPropertyDescriptor(obj, key);
      if (!desc || !desc.enumerable) continue;
      let text;
      if ('value' in desc) text = inspect(desc.value, depth + 1, seen, indent + 1);
      else text = desc.get && desc.set ? '[Getter/Setter]' : desc.get ? '[Getter]' : '[Setter]';
      parts.push(keyText(key) + ': ' + text);
    }
    return parts;
  }

  function inspect(value, depth, seen, indent) {
    switch (typeof value) {
      case 'string':
        return depth === 0 ? value : quote(value);
      case 'number':
        return Object.is(value, -0) ? '-0' : String(value);
      case 'bigint':
        return String(value) + 'n';
      case 'boolean':
      case 'undefined':
        return String(value);
      case 'symbol':
        return String(value);
      case 'function':
        return fnText(value);
      default:
        break;
    }
    if (value === null) return 'null';
    if (seen.includes(value)) return '[Circular *]';
    if (value instanceof Error) return errorText(value);
    if (value instanceof Date) {
      return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    }
    if (value instanceof RegExp) return String(value);
    const isArray = Array.isArray(value);
    if (depth > MAX_DEPTH) return isArray ? '[Array]' : '[Object]';
    seen.push(value);
    try {
      if (isArray) {
        const parts = [];
        const shown = Math.min(value.length, 100);
        for (let i = 0; i < shown; i += 1) parts.push(inspect(value[i], depth + 1, seen, indent + 1));
        if (value.length > shown) parts.push('... ' + (value.length - shown) + ' more items');
        return joinParts('[', parts, ']', indent);
      }
      if (value instanceof Map) {
        const parts = [];
        for (const [k, v] of value) {
          parts.push(inspect(k, depth + 1, seen, indent + 1) + ' => ' + inspect(v, depth + 1, seen, indent + 1));
        }
        return 'Map(' + value.size + ') ' + joinParts('{', parts, '}', indent);
      }
      if (value instanceof Set) {
        const parts = [];
        for (const v of value) parts.push(inspect(v, depth + 1, seen, indent + 1));
        return 'Set(' + value.size + ') ' + joinParts('{', parts, '}', indent);
      }
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        const parts = [];
        const shown = Math.min(value.length, 100);
        for (let i = 0; i < shown; i += 1) parts.push(String(value[i]));
        if (value.length > shown) parts.push('... ' + (value.length - shown) + ' more items');
        return value.constructor.name + '(' + value.length + ') ' + joinParts('[', parts, ']', indent);
      }
      if (value instanceof Promise) return 'Promise { <pending> }';
      const proto = Object.getPrototypeOf(value);
      const parts = ownEntries(value, depth, seen, indent);
      let prefix = '';
      if (proto === null) prefix = '[Object: null prototype] ';
      else if (proto !== Object.prototype) {
        const ctor = proto.constructor;
        const name = typeof ctor === 'function' ? ctor.name : '';
        if (name && name !== 'Object') prefix = name + ' ';
      }
      return prefix + joinParts('{', parts, '}', indent);
    } finally {
      seen.pop();
    }
  }

  // A value on its own, as util.inspect and %o show it: a string quoted, nesting counted from
  // the value itself (Node's default depth of 2 shows { a: [1, { b: 2 }] } whole).
  function inspectOne(value) {
    return typeof value === 'string' ? quote(value) : inspect(value, 0, [], 0);
  }

  function formatArgs(args) {
    if (typeof args[0] === 'string' && args[0].includes('%') && args.length > 1) {
      let i = 1;
      const head = args[0].replace(/%([sdifjoOc%])/g, (match, spec) => {
        if (spec === '%') return '%';
        if (i >= args.length) return match;
        const arg = args[i++];
        switch (spec) {
          case 's': return typeof arg === 'string' ? arg : inspectOne(arg);
          case 'd':
          case 'i': return typeof arg === 'bigint' ? arg + 'n' : String(spec === 'i' ? parseInt(arg, 10) : Number(arg));
          case 'f': return String(parseFloat(arg));
          case 'j': try { return JSON.stringify(arg); } catch (e) { return '[Circular]'; }
          case 'c': return '';
          default: return inspectOne(arg);
        }
      });
      const rest = args.slice(i);
      return [head, ...rest.map((a) => inspect(a, 0, [], 0))].join(' ');
    }
    return args.map((a) => inspect(a, 0, [], 0)).join(' ');
  }

  return { formatArgs, inspectValue: inspectOne };
}
