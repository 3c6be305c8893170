// HTMLRewriter, as Cloudflare Workers provide it: `on(selector, handlers)`,
// `onDocument(handlers)`, `transform(response)`, over lol-html (lolhtml.js). The response it
// returns streams: its body is read a chunk at a time as the new body is read (pulled, so a
// slow reader slows the input), each chunk goes through lol-html, and what comes out is
// enqueued. Handlers get tokens of our own classes, which hold the glue's objects where user code
// cannot reach them; a handler that returns a promise pauses the rewrite until it settles
// (the glue unwinds the wasm stack with asyncify and rewinds it after).
import { ReadableStream } from 'web-streams-polyfill';
import { BodyState, bodyStream, bodyUsed } from './body.js';
import { Headers, headersInternals } from './headers.js';
import { newLolHtml, rewriterError } from './lolhtml.js';
import { Response, responseInternals } from './response.js';
import { chunkBytes, concatBytes, defineToStringTag } from './util.js';

const KEY = Symbol('token');
// Input goes to lol-html at most this much at a time: each write is copied into the instance's
// memory, so a body of one huge chunk (`new Response(bigString)`) never needs that much of it at
// once. Not less: lol-html lexes a tag left unfinished again from its start on each write, so
// small writes make a long tag cost the square of its length (4 MiB of one attribute took
// 950 ms in 64 KiB writes, 60 ms in 1 MiB ones).
const WRITE_CHUNK = 1 << 20;

// Each token of ours to the glue's object it stands for: never a property user code could read.
const tokens = new WeakMap();

function adopt(facade, key, token) {
  if (key !== KEY) throw new TypeError('Illegal constructor');
  tokens.set(facade, token);
}

function tokenOf(facade) {
  const token = tokens.get(facade);
  if (token === undefined) throw new TypeError('Illegal invocation');
  return token;
}

function domString(value) {
  return `${value}`;
}

function contentOptions(options) {
  return { html: options !== undefined && options !== null && Boolean(options.html) };
}

function isThenable(value) {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof value.then === 'function';
}

// What the glue calls: a handler's result is a promise it awaits (a real one, ours) or nothing.
function call(handler, thisArg, token) {
  const result = Reflect.apply(handler, thisArg, [token]);
  return isThenable(result) ? Promise.resolve(result) : undefined;
}

function defineMethods(cls, methods) {
  for (const name of Object.keys(methods)) {
    Object.defineProperty(cls.prototype, name, { value: methods[name], writable: true, configurable: true });
  }
}

// Methods that put content around a token (or in it) or remove it: each returns the token.
function chainable(names) {
  const methods = {};
  for (const name of names) {
    methods[name] = {
      [name](content, options = undefined) {
        tokenOf(this)[name](domString(content), contentOptions(options));
        return this;
      },
    }[name];
  }
  return methods;
}

const removable = {
  remove() {
    tokenOf(this).remove();
    return this;
  },
};

export class Element {
  constructor(key, token) {
    adopt(this, key, token);
  }

  get tagName() { return tokenOf(this).tagName; }
  set tagName(name) { tokenOf(this).tagName = domString(name); }
  get namespaceURI() { return tokenOf(this).namespaceURI; }
  get removed() { return tokenOf(this).removed; }

  get attributes() {
    return Array.from(tokenOf(this).attributes, ([name, value]) => [name, value])[Symbol.iterator]();
  }

  getAttribute(name) { return tokenOf(this).getAttribute(domString(name)) ?? null; }
  hasAttribute(name) { return tokenOf(this).hasAttribute(domString(name)); }

  setAttribute(name, value) {
    tokenOf(this).setAttribute(domString(name), domString(value));
    return this;
  }

  removeAttribute(name) {
    tokenOf(this).removeAttribute(domString(name));
    return this;
  }

  removeAndKeepContent() {
    tokenOf(this).removeAndKeepContent();
    return this;
  }

  onEndTag(handler) {
    if (typeof handler !== 'function') throw new TypeError('onEndTag: the handler must be a function');
    tokenOf(this).onEndTag((end) => call(handler, this, new EndTag(KEY, end)));
  }
}
defineMethods(Element, { ...chainable(['before', 'after', 'prepend', 'append', 'replace', 'setInnerContent']), ...removable });

export class EndTag {
  constructor(key, token) {
    adopt(this, key, token);
  }

  get name() { return tokenOf(this).name; }
  set name(name) { tokenOf(this).name = domString(name); }
}
defineMethods(EndTag, { ...chainable(['before', 'after']), ...removable });

export class Comment {
  constructor(key, token) {
    adopt(this, key, token);
  }

  get text() { return tokenOf(this).text; }
  set text(text) { tokenOf(this).text = domString(text); }
  get removed() { return tokenOf(this).removed; }
}
defineMethods(Comment, { ...chainable(['before', 'after', 'replace']), ...removable });

export class TextChunk {
  constructor(key, token) {
    adopt(this, key, token);
  }

  get text() { return tokenOf(this).text; }
  get lastInTextNode() { return tokenOf(this).lastInTextNode; }
  get removed() { return tokenOf(this).removed; }
}
defineMethods(TextChunk, { ...chainable(['before', 'after', 'replace']), ...removable });

export class Doctype {
  constructor(key, token) {
    adopt(this, key, token);
  }

  get name() { return tokenOf(this).name ?? null; }
  get publicId() { return tokenOf(this).publicId ?? null; }
  get systemId() { return tokenOf(this).systemId ?? null; }
}

export class DocumentEnd {
  constructor(key, token) {
    adopt(this, key, token);
  }
}
defineMethods(DocumentEnd, chainable(['append']));

for (const cls of [Element, EndTag, Comment, TextChunk, Doctype, DocumentEnd]) defineToStringTag(cls, cls.name);

const ELEMENT_HANDLERS = { element: Element, comments: Comment, text: TextChunk };
const DOCUMENT_HANDLERS = { doctype: Doctype, comments: Comment, text: TextChunk, end: DocumentEnd };

// The handlers object for the glue: each of the user's handlers, read once, called with the
// user's object as `this` (so methods of a class instance work) and a token of ours.
function glueHandlers(handlers, kinds, method) {
  if ((typeof handlers !== 'object' && typeof handlers !== 'function') || handlers === null) {
    throw new TypeError(`Failed to execute '${method}' on 'HTMLRewriter': the handlers must be an object`);
  }
  const out = {};
  for (const kind of Object.keys(kinds)) {
    const handler = handlers[kind];
    if (handler === undefined) continue;
    if (typeof handler !== 'function') {
      throw new TypeError(`Failed to execute '${method}' on 'HTMLRewriter': the '${kind}' handler must be a function`);
    }
    const Token = kinds[kind];
    out[kind] = (token) => call(handler, handlers, new Token(KEY, token));
  }
  return out;
}

// One rewrite: a lol-html instance with the rewriter's handlers, and what it has output so far.
class Rewrite {
  constructor() {
    this.lol = newLolHtml();
    this.output = [];
    this.rewriter = new this.lol.HTMLRewriter((chunk) => this.output.push(chunk));
  }

  // lol-html outputs a piece at each place it changed (a rewritten attribute is three): they
  // leave as one chunk per read of the input, since every chunk costs the reader its promise
  // jobs (9,000 chunks took 590 ms for 480 KB with 1,000 links rewritten, one chunk 40 ms).
  take() {
    const out = this.output;
    this.output = [];
    return out;
  }

  async write(bytes) {
    for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
      await this.rewriter.write(bytes.subarray(at, at + WRITE_CHUNK));
    }
  }

  end() {
    return this.rewriter.end();
  }

  // The instance is garbage once unreferenced; freeing its rewriter first returns lol-html's
  // memory at once, which fails harmlessly after a trap.
  free() {
    try {
      this.rewriter.free();
    } catch {}
    this.output = [];
  }
}

const RESPONSE_BODY = 'The body of the Response given to HTMLRewriter.transform()';

// The body of the rewritten response: each pull reads input until lol-html has output something
// (or the input ends), so the output starts while the input is still coming.
function rewrittenBody(rewrite, input) {
  const reader = input.getReader();
  let ended = false;
  const fail = (error) => {
    rewrite.free();
    reader.cancel(error).catch(() => {});
    return rewriterError(error, rewrite.lol);
  };
  return new ReadableStream(
    {
      async pull(controller) {
        try {
          while (rewrite.output.length === 0 && !ended) {
            const { value, done } = await reader.read();
            if (done) {
              ended = true;
              await rewrite.end();
            } else {
              await rewrite.write(chunkBytes(value, RESPONSE_BODY));
            }
          }
        } catch (error) {
          throw fail(error);
        }
        const output = rewrite.take();
        if (output.length > 0) controller.enqueue(concatBytes(output, output.reduce((sum, chunk) => sum + chunk.length, 0)));
        if (ended) {
          rewrite.free();
          controller.close();
        }
      },
      cancel(reason) {
        rewrite.free();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

export class HTMLRewriter {
  #handlers = [];
  // The rewrite the next transform() uses, made by the first on()/onDocument() so that a bad
  // selector is a TypeError there, as in Workers; later transforms make theirs afresh.
  #next = null;

  #register(add) {
    this.#next ??= this.#fresh();
    add(this.#next.rewriter);
    this.#handlers.push(add);
    return this;
  }

  #fresh() {
    const rewrite = new Rewrite();
    for (const add of this.#handlers) add(rewrite.rewriter);
    return rewrite;
  }

  on(selector, handlers) {
    const text = domString(selector);
    const glue = glueHandlers(handlers, ELEMENT_HANDLERS, 'on');
    return this.#register((rewriter) => rewriter.on(text, glue));
  }

  onDocument(handlers) {
    const glue = glueHandlers(handlers, DOCUMENT_HANDLERS, 'onDocument');
    return this.#register((rewriter) => rewriter.onDocument(glue));
  }

  transform(response) {
    if (!responseInternals.is(response)) {
      throw new TypeError("Failed to execute 'transform' on 'HTMLRewriter': parameter 1 is not of type 'Response'.");
    }
    const { status, statusText, headers, body } = responseInternals.parts(response);
    if (bodyUsed(body)) throw new TypeError(`${RESPONSE_BODY} has already been used`);
    // A new Response, as workerd makes (its headers can be changed); the new body's length is
    // not known, so the old one's Content-Length would be a lie.
    const outHeaders = new Headers(headers);
    outHeaders.delete('content-length');
    headersInternals.setGuard(outHeaders, 'response');
    const input = bodyStream(body);
    let outBody = null;
    if (input !== null) {
      const rewrite = this.#next ?? this.#fresh();
      this.#next = null;
      outBody = new BodyState(null, rewrittenBody(rewrite, input));
    }
    const out = new Response(null);
    responseInternals.set(out, { status, statusText, headers: outHeaders, body: outBody });
    return out;
  }
}
defineToStringTag(HTMLRewriter, 'HTMLRewriter');

// For the harness, which hardens every prototype reachable from these (webapi.js samples()).
export function rewriterSamples() {
  return [new HTMLRewriter(), ...[Element, EndTag, Comment, TextChunk, Doctype, DocumentEnd].map((cls) => Object.create(cls.prototype))];
}
