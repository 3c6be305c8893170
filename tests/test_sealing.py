"""Secrets of function records are sealed at rest with the operator's key (vortex/storage/sealing.py)."""

from __future__ import annotations

import base64
import os
import stat
import uuid
from pathlib import Path

import pytest

from vortex.config import ConfigError, Settings
from vortex.storage.base import FunctionRecord, sha256_hex
from vortex.storage.local import LocalStore
from vortex.storage.sealing import KEY_FILE, SecretsKey, load_secrets_key

SECRET = "s3cr3t-value-never-on-disk"


def _record(**secrets: str) -> FunctionRecord:
    code = b"Vortex.return(1)"
    return FunctionRecord(
        id=str(uuid.uuid4()),
        code_sha256=sha256_hex(code),
        size=len(code),
        created_at="2026-01-01T00:00:00.000Z",
        env={"PLAIN": "visible"},
        secrets=secrets,
    )


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def test_a_record_on_disk_holds_secret_names_not_values(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    record = _record(TOKEN=SECRET)
    await store.put(record, b"Vortex.return(1)")
    raw = (tmp_path / "functions" / f"{record.id}.json").read_bytes()
    assert SECRET.encode() not in raw
    assert b"TOKEN" in raw and b"visible" in raw
    again = await LocalStore(tmp_path).get_record(record.id)
    assert again.secrets == {"TOKEN": SECRET} and again.secrets_error is None


async def test_the_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    key = load_secrets_key(Settings(data_dir=tmp_path / "data"))
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secrets_key(Settings(data_dir=tmp_path / "data")).key_id == key.key_id


async def test_the_operators_key_is_used_and_no_file_is_made(tmp_path: Path) -> None:
    text = _key()
    settings = Settings.from_env({"VORTEX_DATA_DIR": str(tmp_path), "VORTEX_SECRETS_KEY": text})
    key = load_secrets_key(settings)
    assert not (tmp_path / KEY_FILE).exists()
    assert key.key_id == SecretsKey(base64.b64decode(text)).key_id
    hex_key = os.urandom(32).hex()
    assert load_secrets_key(Settings(data_dir=tmp_path, secrets_key=hex_key))
    for bad in ("short", base64.b64encode(os.urandom(16)).decode()):
        with pytest.raises(ConfigError):
            load_secrets_key(Settings(data_dir=tmp_path, secrets_key=bad))


async def test_a_lost_key_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    record = _record(TOKEN=SECRET)
    await LocalStore(tmp_path).put(record, b"Vortex.return(1)")
    (tmp_path / KEY_FILE).unlink()  # lost: the next start makes another
    read = await LocalStore(tmp_path).get_record(record.id)
    assert read.secrets == {"TOKEN": ""}  # the names, as the API shows them
    assert read.secrets_error is not None and "another key" in read.secrets_error
    assert read.public_json()["secrets"] == ["TOKEN"]


async def test_sealed_secrets_cannot_move_to_another_record(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    first, second = _record(TOKEN=SECRET), _record(TOKEN="other")
    await store.put(first, b"Vortex.return(1)")
    await store.put(second, b"Vortex.return(1)")
    first_path = tmp_path / "functions" / f"{first.id}.json"
    second_path = tmp_path / "functions" / f"{second.id}.json"
    sealed = first_path.read_bytes().split(b'"sealed_secrets":')[1]
    head = second_path.read_bytes().split(b'"sealed_secrets":')[0]
    second_path.write_bytes(head + b'"sealed_secrets":' + sealed)
    read = await LocalStore(tmp_path).get_record(second.id)
    assert read.secrets_error is not None and "damaged" in read.secrets_error
