"""An R2 object as it is stored: a small header (its key and metadata, JSON) then its bytes,
in one blob, so that one write replaces both together on every backend (an S3 PUT, a local
file renamed into place) and two nodes never see one put's bytes with another's metadata.

    b"VR2\\x01" | header length (4 bytes, big-endian) | header JSON | the object's bytes
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import orjson

MAGIC = b"VR2\x01"
_LENGTH = struct.Struct(">I")
PREFIX_BYTES = len(MAGIC) + _LENGTH.size
HEAD_READ_BYTES = 64 << 10
"""What a head or a listing reads of a blob: every header fits (a 1024-byte key and 8 KiB of
metadata, even with JSON's escapes), so the bytes after it are never read for them."""


class CorruptObject(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """What R2 tells of an object without its bytes (an R2Object)."""

    key: str
    version: str
    size: int
    etag: str
    """The MD5 of the bytes, in hex (as R2 gives it for an object put in one piece)."""
    uploaded_ms: int
    http_metadata: dict[str, Any] = field(default_factory=dict)
    custom_metadata: dict[str, str] = field(default_factory=dict)

    def header(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "version": self.version,
            "size": self.size,
            "etag": self.etag,
            "uploaded": self.uploaded_ms,
            "httpMetadata": self.http_metadata,
            "customMetadata": self.custom_metadata,
        }

    def to_json(self) -> dict[str, Any]:
        """What JavaScript builds its R2Object from."""
        body = self.header()
        body["checksums"] = {"md5": self.etag}
        return body


def encode(head: ObjectHead, data: bytes) -> bytes:
    header = orjson.dumps(head.header())
    return MAGIC + _LENGTH.pack(len(header)) + header + data


def header_length(blob: bytes) -> int:
    """Bytes the blob's header ends at (``PREFIX_BYTES`` + its length)."""
    if len(blob) < PREFIX_BYTES or not blob.startswith(MAGIC):
        raise CorruptObject("not an R2 object")
    length: int = _LENGTH.unpack_from(blob, len(MAGIC))[0]
    return PREFIX_BYTES + length


def decode_head(blob: bytes) -> ObjectHead:
    """The header of a blob, whole or only its start (at least ``header_length`` bytes)."""
    end = header_length(blob)
    if len(blob) < end:
        raise CorruptObject("the object's header is cut short")
    try:
        fields = orjson.loads(blob[PREFIX_BYTES:end])
        return ObjectHead(
            key=str(fields["key"]),
            version=str(fields["version"]),
            size=int(fields["size"]),
            etag=str(fields["etag"]),
            uploaded_ms=int(fields["uploaded"]),
            http_metadata=dict(fields.get("httpMetadata") or {}),
            custom_metadata=dict(fields.get("customMetadata") or {}),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CorruptObject(f"the object's header does not read: {exc}") from None


def decode(blob: bytes) -> tuple[ObjectHead, bytes]:
    head = decode_head(blob)
    return head, blob[header_length(blob) :]
