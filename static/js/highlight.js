// A small JavaScript tokenizer for the editor's colouring. It builds text nodes and spans only.

const KEYWORDS = new Set(
  ("await break case catch class const continue debugger default delete do else export extends " +
    "finally for function if import in instanceof let new of return static super switch this throw " +
    "try typeof var void while with yield async").split(" "),
);
const LITERALS = new Set(["true", "false", "null", "undefined", "NaN", "Infinity"]);
const GLOBALS = new Set(
  ("console Vortex Promise Array Object JSON Math Date String Number Boolean Error TypeError " +
    "RangeError SyntaxError Map Set WeakMap Symbol BigInt RegExp setTimeout setInterval clearTimeout " +
    "clearInterval globalThis structuredClone TextEncoder TextDecoder URL URLSearchParams crypto atob btoa " +
    "queueMicrotask Uint8Array ArrayBuffer").split(" "),
);

const TOKEN = new RegExp(
  [
    String.raw`(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))`, // 1 comment
    String.raw`("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|` + "`" + String.raw`(?:[^` + "`" + String.raw`\\]|\\[\s\S])*` + "`?)", // 2 string
    String.raw`(\b(?:0[xX][\da-fA-F_]+n?|0[bB][01_]+n?|0[oO][0-7_]+n?|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?n?)|\.\d[\d_]*(?:[eE][+-]?\d+)?)`, // 3 number
    String.raw`([A-Za-z_$][\w$]*)`, // 4 identifier
  ].join("|"),
  "g",
);

export const HIGHLIGHT_LIMIT = 200_000;

function span(className, text) {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = text;
  return el;
}

/** Returns a DocumentFragment with `code` split into coloured spans. */
export function highlight(code) {
  const fragment = document.createDocumentFragment();
  if (code.length > HIGHLIGHT_LIMIT) {
    fragment.append(code);
    return fragment;
  }
  let last = 0;
  TOKEN.lastIndex = 0;
  let match;
  while ((match = TOKEN.exec(code)) !== null) {
    if (match[0].length === 0) {
      TOKEN.lastIndex += 1;
      continue;
    }
    if (match.index > last) fragment.append(code.slice(last, match.index));
    const [text, comment, string, number, ident] = match;
    if (comment) fragment.append(span("tk-comment", text));
    else if (string) fragment.append(span("tk-string", text));
    else if (number) fragment.append(span("tk-number", text));
    else if (ident) {
      const before = code[match.index - 1];
      const after = code.slice(TOKEN.lastIndex).match(/^\s*(\(|`)?/)?.[1];
      if (before === "." && !KEYWORDS.has(ident)) {
        fragment.append(span(after ? "tk-fn" : "tk-prop", text));
      } else if (KEYWORDS.has(ident)) fragment.append(span("tk-keyword", text));
      else if (LITERALS.has(ident)) fragment.append(span("tk-literal", text));
      else if (GLOBALS.has(ident)) fragment.append(span("tk-global", text));
      else if (after) fragment.append(span("tk-fn", text));
      else fragment.append(text);
    }
    last = TOKEN.lastIndex;
  }
  if (last < code.length) fragment.append(code.slice(last));
  return fragment;
}
