// node:stream/promises: pipeline and finished returning promises, node:stream's own.
module.exports = require('node:stream').promises;
