// node:path: path-browserify (Node's posix path module, extracted). Workers have no file
// system; paths resolve against "/" (process.cwd() here, as on workerd).
const path = require('path-browserify');

module.exports = path;
