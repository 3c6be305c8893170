// node:timers/promises: the promise forms of node:timers.
module.exports = require('node:timers').promises;
