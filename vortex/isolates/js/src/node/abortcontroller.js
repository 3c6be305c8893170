// What readable-stream asks of the `abort-controller` package: the platform's own classes.
module.exports = { AbortController: globalThis.AbortController, AbortSignal: globalThis.AbortSignal };
