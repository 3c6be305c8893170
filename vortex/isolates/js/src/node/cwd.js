// What path-browserify reads of `process` (injected by build.mjs: there is no global process).
export const process = { cwd: () => '/' };
