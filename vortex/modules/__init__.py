"""Module functions (``export default { fetch }``): detection, building at deploy, stored form.

SpiderMonkey's native modules are out of pythonmonkey's reach, so a module upload is turned into
one classic script at deploy time: esbuild transforms each uploaded file to CommonJS (no
bundling, so it reads nothing but the files given), a small linker joins them into a script
that evaluates to the entry's exports, and the source maps let errors point at the uploaded
files. Runs never build anything: they use the stored script.

TypeScript files (``.ts``, ``.mts``, ``.cts``) go through the same esbuild transform, which
strips their types; a TypeScript *script* is built on its own (``script.py``).
"""
