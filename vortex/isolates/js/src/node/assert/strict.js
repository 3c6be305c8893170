// node:assert/strict is node:assert's `strict`, the same object, as in Node.
module.exports = require('node:assert').strict;
