// node:stream: Node's own streams as the Node.js streams team ports them to other platforms, the
// `readable-stream` package (v4, Node 18's lib/stream), not a stream of ours. build.mjs links its
// `buffer`, `events`, `process` and `string_decoder` to the function's node:buffer, node:events,
// node:process and node:string_decoder, so a Buffer it emits is the function's Buffer and a
// stream is the function's EventEmitter; AbortController is the platform's. Evaluated per
// instance of the importing function, like the other built-ins: a function that does not
// import it carries none of it.
module.exports = require('readable-stream/lib/stream.js');
