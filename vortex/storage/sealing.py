"""Secrets of function records, encrypted at rest with a key the operator holds.

A record's secret values are stored sealed (AES-256-GCM, the record's id as associated data, so
a sealed value cannot be moved to another record); their names stay readable, as the API shows
them. The key is ``VORTEX_SECRETS_KEY`` (32 bytes, base64 or hex) or, without it, a key file
the server makes on its first start (``secrets.key`` in the data directory, mode 0600), never
the bucket. Several nodes on one bucket need the same ``VORTEX_SECRETS_KEY``.

A record sealed with another key (the key file lost, a node with a different key) is read with
its secrets' names but no values and ``secrets_error`` set: listing and showing it work, running
it is ``503 secrets_unavailable``, with the reason. Records written before sealing existed hold
their secrets in clear and are read as they are.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vortex.config import ConfigError, Settings
from vortex.storage.base import FunctionRecord

log = logging.getLogger(__name__)
KEY_FILE = "secrets.key"
KEY_BYTES = 32
VERSION = "v1"


class SealError(Exception):
    """Sealed secrets that this key cannot open; the message says why, for the operator."""


class SecretsKey:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigError(f"the secrets key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"vortex-secrets-key\0" + key).hexdigest()[:12]
        """Names the key in sealed values (not secret): tells "another key" from "damaged"."""

    def seal(self, record_id: str, secrets: dict[str, str]) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, orjson.dumps(secrets), record_id.encode())
        return f"{VERSION}.{self.key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, record_id: str, text: str) -> dict[str, str]:
        version, _, rest = text.partition(".")
        key_id, _, payload = rest.partition(".")
        if version != VERSION:
            raise SealError(f"sealed in an unknown format ({version[:10]!r})")
        if key_id != self.key_id:
            raise SealError(
                f"sealed with another key (id {key_id[:12]}; this server's is {self.key_id}): "
                "give this server that key (VORTEX_SECRETS_KEY), or deploy the function again "
                "with its secrets"
            )
        try:
            blob = base64.urlsafe_b64decode(payload)
            plain = self._aead.decrypt(blob[:12], blob[12:], record_id.encode())
        except (InvalidTag, ValueError, binascii.Error):
            raise SealError("the sealed secrets are damaged or belong to another record") from None
        values = orjson.loads(plain)
        return {str(k): str(v) for k, v in values.items()}


def _decode_key(text: str, where: str) -> bytes:
    text = text.strip()
    candidates = []
    if len(text) == 2 * KEY_BYTES:
        with contextlib.suppress(ValueError):
            candidates.append(bytes.fromhex(text))
    with contextlib.suppress(ValueError, binascii.Error):
        candidates.append(base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_"))
    for key in candidates:
        if len(key) == KEY_BYTES:
            return key
    raise ConfigError(
        f"{where} must be {KEY_BYTES} random bytes in base64 or hex "
        '(python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())")'
    )


def load_secrets_key(settings: Settings) -> SecretsKey:
    """The operator's key, or the key file's, made (0600) if there is none yet."""
    if settings.secrets_key is not None:
        return SecretsKey(_decode_key(settings.secrets_key, "VORTEX_SECRETS_KEY"))
    return key_of_data_dir(settings.data_dir)


def key_of_data_dir(data_dir: Path) -> SecretsKey:
    path = data_dir / KEY_FILE
    return SecretsKey(_decode_key(_key_file(path), str(path)))


def _key_file(path: Path) -> str:
    try:
        text = path.read_text()
    except FileNotFoundError:
        pass
    else:
        if path.stat().st_mode & 0o077:
            log.warning("%s can be read by other users: chmod 600 it", path)
        return text
    path.parent.mkdir(parents=True, exist_ok=True)
    text = base64.b64encode(os.urandom(KEY_BYTES)).decode() + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of this data directory made it first
        return path.read_text()
    with os.fdopen(fd, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    log.warning(
        "made %s, the key of the secrets of every function: keep it (and back it up apart from "
        "the data), or those secrets cannot be read again",
        path,
    )
    return text


def record_bytes(record: FunctionRecord, key: SecretsKey) -> bytes:
    """A record as stores write it: its secrets sealed."""
    data: dict[str, Any] = record.to_json()
    data.pop("secrets_error", None)
    if record.secrets:
        data["secrets"] = dict.fromkeys(sorted(record.secrets), "")
        data["sealed_secrets"] = key.seal(record.id, record.secrets)
    return orjson.dumps(data)


def record_from_bytes(data: bytes, key: SecretsKey) -> FunctionRecord:
    """A stored record, its secrets opened (raises as ``FunctionRecord.from_json`` does)."""
    record = FunctionRecord.from_json(data)
    fields = orjson.loads(data)
    sealed = fields.get("sealed_secrets")
    if not isinstance(sealed, str):
        return record
    try:
        secrets = key.open(record.id, sealed)
    except SealError as exc:
        return replace(record, secrets_error=f"its secrets are {exc}")
    return replace(record, secrets=secrets)
