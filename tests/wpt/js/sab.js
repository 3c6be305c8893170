// Ours, standing in for WPT's /common/sab.js, which makes shared buffers through
// WebAssembly.Memory: a buffer of the type asked for.
self.createBuffer = (type, length) => new self[type](length);
