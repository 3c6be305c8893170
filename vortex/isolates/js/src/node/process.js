// node:process: the small part of Node's process that means something in a function. `env`
// holds the function's variables and secrets as strings, as workerd's
// nodejs_compat_populate_process_env does; it is this instance's copy, so setting a variable
// changes nothing for other runs' instances. `exit` throws: a run ends by its response.
const EventEmitter = require('node:events');

function envOf(vortex) {
  const env = {};
  const given = vortex && vortex.env;
  if (given) for (const key of Object.keys(given)) env[key] = String(given[key]);
  return env;
}

const process = new EventEmitter();
const started = performance.now();

function hrtime(previous) {
  const now = performance.now();
  const seconds = Math.floor(now / 1000);
  const nanos = Math.floor((now % 1000) * 1e6);
  if (!previous) return [seconds, nanos];
  const diff = (seconds - previous[0]) * 1e9 + (nanos - previous[1]);
  return [Math.floor(diff / 1e9), diff % 1e9];
}
hrtime.bigint = () => BigInt(Math.floor(performance.now() * 1e6));

Object.assign(process, {
  env: envOf(globalThis.Vortex),
  argv: [],
  argv0: '',
  execArgv: [],
  title: 'vortex',
  pid: 1,
  ppid: 0,
  platform: 'linux',
  version: 'v22.14.0',
  versions: { node: '22.14.0' },
  release: { name: 'node' },
  features: {},
  exitCode: undefined,
  browser: false,
  cwd: () => '/',
  chdir() {
    throw new Error('process.chdir() is not supported: a function has no working directory');
  },
  umask: () => 0o22,
  exit(code) {
    throw new Error('process.exit(' + (code === undefined ? '' : code) + ') is not supported: return a Response instead');
  },
  abort() {
    throw new Error('process.abort() is not supported');
  },
  nextTick(callback, ...args) {
    if (typeof callback !== 'function') throw new TypeError('The "callback" argument must be of type function');
    queueMicrotask(() => callback(...args));
  },
  emitWarning(warning) {
    console.warn(typeof warning === 'string' ? 'Warning: ' + warning : warning);
  },
  hrtime,
  uptime: () => (performance.now() - started) / 1000,
});

module.exports = process;
