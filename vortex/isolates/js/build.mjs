// Builds the two bundles every host loads (`npm run build`, from script/bootstrap and the
// Dockerfile): dist/webapi.js, the web APIs, and dist/harness.js, the harness; and the Node.js
// built-ins and cloudflare:workers, which a deploy links into the functions that import them
// (dist/node, see vortex/modules/nodebuiltins.py). Beside them goes
// lol-html's WebAssembly (html-rewriter-wasm), which the host reads at boot and HTMLRewriter
// compiles on first use: kept out of webapi.js, it costs nothing to hosts that never rewrite.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// html-rewriter-wasm's glue is a CommonJS module whose state (the wasm instance, its table of
// JavaScript objects, asyncify's pending promises) lives at module level: bundled as is, every
// run of a host would share one lol-html instance and one memory. Each of its two files is
// turned into a function that runs the module's body afresh, so each rewrite gets its own
// instance (htmlrewriter.js), with `require` and `WebAssembly` given by the caller.
const LOL_GLUE = /html-rewriter-wasm[\\/]dist[\\/](?:html_rewriter|asyncify)\.js$/;
const perInstanceGlue = {
  name: 'per-instance-glue',
  setup(builder) {
    builder.onLoad({ filter: LOL_GLUE }, (args) => ({
      contents:
        'export default function (module, exports, require, __dirname, WebAssembly) {\n' +
        readFileSync(args.path, 'utf8') +
        '\n}\n',
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  format: 'iife',
  platform: 'neutral',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: ['src/webapi.js'],
  globalName: 'VortexWebAPI',
  mainFields: ['module', 'main'],
  inject: ['src/inject.js'],
  plugins: [perInstanceGlue],
  outfile: 'dist/webapi.js',
});
await build({
  ...common,
  entryPoints: ['src/harness/index.js'],
  globalName: 'VortexHarness',
  banner: { js: "'use strict';" },
  outfile: 'dist/harness.js',
});
mkdirSync('dist', { recursive: true });
copyFileSync('node_modules/html-rewriter-wasm/dist/html_rewriter_bg.wasm', 'dist/lol_html.wasm');

// dist/ses.js, the SES every host boots from: ses.umd.js with Error.captureStackTrace given to
// the compartments' Error (src/ses/capture-stack-trace.js says why), put where SES makes that
// Error, before it is frozen. A SES whose text moved fails the build here, not a host at boot.
const SES_ANCHOR = "  if (platform === 'v8') {\n    // `SharedError.prepareStackTrace`, if it exists";
const ses = readFileSync('node_modules/ses/dist/ses.umd.js', 'utf8');
if (ses.split(SES_ANCHOR).length !== 2) {
  throw new Error('ses.umd.js: the place of Error.captureStackTrace is not found once');
}
const captureStackTrace = readFileSync('src/ses/capture-stack-trace.js', 'utf8');
writeFileSync('dist/ses.js', ses.replace(SES_ANCHOR, () => captureStackTrace + SES_ANCHOR));

// Each Node.js built-in is one CommonJS file whose body the linker makes a module of the
// function, like an uploaded file: `require("node:x")` of another built-in stays a require, so
// every built-in a function imports exists once in it (string_decoder's Buffer is node:buffer's).
// A name with a slash (assert/strict) is built from src/node/assert/strict.js into a flat file,
// assert_strict.js; the manifest says which file each is.
const NODE_BUILTINS = [
  'assert',
  'assert/strict',
  'async_hooks',
  'buffer',
  'crypto',
  'events',
  'path',
  'process',
  'stream',
  'stream/promises',
  'string_decoder',
  'timers',
  'timers/promises',
  'util',
];
// readable-stream's own dependencies, which Node has built in: the function's built-ins, and
// the platform's AbortController for the `abort-controller` package.
const STREAM_IMPORTS = {
  events: 'node:events',
  process: 'node:process',
  'process/': 'node:process',
  string_decoder: 'node:string_decoder',
  'string_decoder/': 'node:string_decoder',
};
const builtinImports = (own) => ({
  name: 'builtin-imports',
  setup(builder) {
    builder.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, external: true }));
    if (own !== 'buffer') {
      builder.onResolve({ filter: /^buffer$/ }, () => ({ path: 'node:buffer', external: true }));
    }
    if (own === 'stream') {
      builder.onResolve({ filter: /^(events|process\/?|string_decoder\/?)$/ }, (args) => ({
        path: STREAM_IMPORTS[args.path],
        external: true,
      }));
      builder.onResolve({ filter: /^abort-controller$/ }, () => ({ path: new URL('src/node/abortcontroller.js', import.meta.url).pathname }));
    }
  },
});
const modules = {};
mkdirSync('dist/node', { recursive: true });
for (const name of NODE_BUILTINS) {
  const file = name.replace('/', '_') + '.js';
  const result = await build({
    ...common,
    format: 'cjs',
    entryPoints: [`src/node/${name}.js`],
    mainFields: ['module', 'main'],
    inject: name === 'path' ? ['src/node/cwd.js'] : [],
    plugins: [builtinImports(name)],
    metafile: true,
    outfile: `dist/node/${file}`,
  });
  const [output] = Object.values(result.metafile.outputs);
  modules[name] = { file, imports: [...new Set(output.imports.filter((i) => i.external).map((i) => i.path))] };
}
// cloudflare:workers (src/cloudflare/workers.js) is linked the same way and listed in the same
// manifest, under its full name: it imports nothing.
const CLOUDFLARE_MODULES = ['workers'];
for (const name of CLOUDFLARE_MODULES) {
  const file = `cloudflare_${name}.js`;
  await build({ ...common, format: 'cjs', entryPoints: [`src/cloudflare/${name}.js`], outfile: `dist/node/${file}` });
  modules[`cloudflare:${name}`] = { file, imports: [] };
}
writeFileSync('dist/node/modules.json', JSON.stringify(modules, null, 2) + '\n');

// What the bundles were built from: every file under src/ and the lock file, hashed as
// vortex/isolates/jsbundles.py hashes them. A host given bundles older than the sources beside
// them fails in ways that say nothing of it (a new host.py over an old harness hung its runs),
// so the server refuses to start on them and says to rebuild.
const sources = readdirSync('src', { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile())
  .map((entry) => `${entry.parentPath ?? entry.path}/${entry.name}`.slice('src/'.length).replaceAll('\\', '/'))
  .sort();
const digest = createHash('sha256');
for (const name of sources) {
  digest.update(`${name}\0`);
  digest.update(readFileSync(`src/${name}`));
  digest.update('\0');
}
digest.update(readFileSync('package-lock.json'));
writeFileSync('dist/sources.sha256', digest.digest('hex') + '\n');
