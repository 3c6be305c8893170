// The syntax check at deploy: what the engine refuses, what SES refuses, and direct evals.
import { CHECK_LINE_OFFSET, CHECK_PREFIX, JSON, Math, WRAP_PREFIX } from './platform.js';
import { AsyncFunction } from './boot.js';

// SES refuses `eval(` at evaluation (a direct eval it cannot contain as the spec says), but
// not the same call written with a comment or a line break before its parenthesis, inside
// parentheses, or with escapes in the name, all still direct evals. At deploy every such
// spelling is refused, in strings and comments too (as SES does), since telling them apart
// would take a parser.
// Each gap has one way to match: a block comment ends at its first `*/` and a line comment at
// its line's end. Were a comment free to end at a later `*/` or `//`, a run of comments after a
// `(` (esbuild writes a `/* @__PURE__ */` before many calls) could match in 2^n ways, and a
// failed match tried them all: minutes of CPU on a 150 KB bundle (Sentry's, of toucan-js).
const GAP = String.raw`(?:\s|/\*(?:[^*]|\*(?!/))*\*/|//[^\n\r\u2028\u2029]*(?![^\n\r\u2028\u2029]))*`;
const hex = (c) => c.charCodeAt(0).toString(16).replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
const letter = (c) => String.raw`(?:${c}|\\u00${hex(c)}|\\u\{0*${hex(c)}\})`;
const EVAL_NAME = ['e', 'v', 'a', 'l'].map(letter).join('');
// `eval (` after anything but a property dot or a part of a longer name (a spread's `...` is
// no property dot: `[...eval(src)]` is direct, and SES's own pattern misses it); or `eval`
// inside parentheses opened right before it and closed right before the call:
// `((eval))(src)`. `(0, eval)(src)` is an indirect eval and passes.
const DIRECT_EVAL = new RegExp(
  String.raw`(?:^|[^.\w$\\]|\.\.\.)${EVAL_NAME}${GAP}\(|\(${GAP}(?:\(${GAP})*${EVAL_NAME}${GAP}\)${GAP}(?:\)${GAP})*\(`,
);
function directEvalLine(code) {
  const found = DIRECT_EVAL.exec(code);
  if (found === null) return null;
  // The line of the call's first character (the match may start with the one before it).
  const start = found.index + (/^[^(\\\w$]/.test(found[0]) ? 1 : 0);
  return code.slice(0, start).split('\n').length;
}

const LINE_BREAK = /\r\n|[\n\r\u2028\u2029]/;

// The engine puts an error found at the end of the code (an unclosed call, a missing brace) on
// the line of the wrapper's closing brace, past the code's last line: it is said at the end of
// the last line that has something on it. No column is past its line's end (one past its last
// character is the end itself).
function clamped(code, line, column) {
  const lines = code.split(LINE_BREAK);
  if (line > lines.length) {
    let last = lines.length;
    while (last > 1 && lines[last - 1].trim() === '') last -= 1;
    return [last, lines[last - 1].trimEnd().length + 1];
  }
  return [line, Math.max(1, Math.min(column, lines[line - 1].length + 1))];
}

// Returns null, or a JSON text {message, line, column} for the first syntax problem.
export function check(code) {
  try {
    // eslint-disable-next-line no-new
    new AsyncFunction(CHECK_PREFIX + code);
  } catch (err) {
    if (err instanceof SyntaxError) {
      const line = Math.max(1, Number(err.lineNumber) - CHECK_LINE_OFFSET);
      const rawColumn = Number(err.columnNumber) || 1;
      const column = line === 1 ? Math.max(1, rawColumn - CHECK_PREFIX.length) : rawColumn;
      const [inLine, inColumn] = clamped(code, line, column);
      return JSON.stringify({ message: String(err.message), line: inLine, column: inColumn });
    }
    // The parser's own stack ran out: thousands of nested brackets, which no person writes.
    const message = /too much recursion/.test(String(err && err.message))
      ? 'the code nests too deeply to be parsed (brackets or blocks thousands deep)'
      : String(err);
    return JSON.stringify({ message, line: null, column: null });
  }
  try {
    // The body is known to be a well-formed function body, so this only compiles it; it
    // surfaces what SES refuses (HTML-like comments, `import(`), which the engine accepts.
    new Compartment({ __options__: true, globals: {} }).evaluate(WRAP_PREFIX + code + '\n})');
  } catch (err) {
    const message = String(err && err.message);
    // SES names the line in its message ("... rejected at <unknown>:2. (SES_...)").
    const where = /at [^\s]*:(\d+)\. \(SES_/.exec(message);
    return JSON.stringify({ message, line: where ? Number(where[1]) : null, column: null });
  }
  const evalLine = directEvalLine(code);
  if (evalLine !== null) {
    const message = `Possible direct eval expression rejected at line ${evalLine} (direct eval is not supported; call (0, eval)(src) or new Function)`;
    return JSON.stringify({ message, line: evalLine, column: null });
  }
  return null;
}
