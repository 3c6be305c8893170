"""``.wasm`` files of a module upload, imported as a ``WebAssembly.Module`` as Workers do
(``import add from "./add.wasm"``).

The deploy API carries sources as JSON strings, so a ``.wasm`` file's value is its bytes in
base64. At deploy it is checked to be base64 of a WebAssembly binary (magic and version; the
engine validates the rest when the module is compiled); the linker then gets a small CommonJS
module whose default export is the compiled module, made once per instance from the bytes.
"""

from __future__ import annotations

import base64
import binascii

from vortex.errors import InvalidRequest
from vortex.modules.esbuild import Transformed

WASM_EXTENSION = ".wasm"
WASM_HEADER = b"\0asm\x01\0\0\0"
"""The magic number and version 1 that begin every WebAssembly binary."""

# The module's code: the bytes, decoded without the run's globals (a file imported earlier
# may have replaced atob), compiled by the engine the runs share.
_MODULE = """"use strict";
const text = %s;
const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
const bytes = new Uint8Array((text.length / 4) * 3 - padding);
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const value = new Uint8Array(128);
for (let i = 0; i < 64; i += 1) value[alphabet.charCodeAt(i)] = i;
for (let i = 0, o = 0; i < text.length; i += 4) {
  const n = (value[text.charCodeAt(i)] << 18) | (value[text.charCodeAt(i + 1)] << 12) |
    (value[text.charCodeAt(i + 2)] << 6) | value[text.charCodeAt(i + 3)];
  if (o < bytes.length) bytes[o++] = n >> 16;
  if (o < bytes.length) bytes[o++] = (n >> 8) & 255;
  if (o < bytes.length) bytes[o++] = n & 255;
}
module.exports = { __esModule: true, default: new WebAssembly.Module(bytes) };
"""


def is_wasm_name(name: str) -> bool:
    return name.endswith(WASM_EXTENSION)


def wasm_bytes(name: str, text: str) -> bytes:
    """The bytes of an uploaded ``.wasm`` file, or InvalidRequest."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            f"{name}: a .wasm file is uploaded as the base64 of its bytes"
        ) from None
    if not data.startswith(WASM_HEADER):
        raise InvalidRequest(f"{name} is not a WebAssembly binary (version 1)")
    return data


def wasm_transformed(name: str, text: str) -> Transformed:
    """The CommonJS module the linker gets for an uploaded ``.wasm`` file."""
    canonical = base64.b64encode(wasm_bytes(name, text)).decode("ascii")
    code = _MODULE % f'"{canonical}"'
    return Transformed(name, code, "", ())
