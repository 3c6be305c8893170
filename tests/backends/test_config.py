"""Choosing and configuring backends from the environment, the original's names included."""

from __future__ import annotations

from pathlib import Path

import pytest

from vortex.backends import make_api_keys, make_logbus, make_store
from vortex.config import ConfigError, Settings
from vortex.logbus.memory import MemoryLogBus
from vortex.logbus.redis import RedisLogBus
from vortex.storage.local import LocalStore
from vortex.storage.s3 import S3Store


async def test_nothing_set_means_the_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"VORTEX_DATA_DIR": str(tmp_path)})
    assert (settings.store, settings.logbus) == ("local", "memory")
    assert isinstance(make_store(settings), LocalStore)
    bus = make_logbus(settings)
    assert isinstance(bus, MemoryLogBus)
    await bus.close()


async def test_the_originals_variables_select_s3_and_redis() -> None:
    settings = Settings.from_env(
        {
            "MINIO_ENDPOINT": "minio:9000",
            "MINIO_ACCESS_KEY": "key",
            "MINIO_SECRET_KEY": "secret",
            "REDIS_ADDR": "redis:6379",
        }
    )
    assert settings.store == "s3"
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert (settings.s3_access_key, settings.s3_secret_key) == ("key", "secret")
    assert settings.s3_bucket == "vortex"
    assert settings.s3_region == "us-east-1"
    assert settings.s3_addressing_style == "path"
    assert settings.logbus == "redis"
    assert settings.redis_url == "redis://redis:6379/0"
    store = make_store(settings)
    assert isinstance(store, S3Store)
    await store.close()
    bus = make_logbus(settings)
    assert isinstance(bus, RedisLogBus)
    await bus.close()


def test_secrets_stay_out_of_repr() -> None:
    settings = Settings.from_env(
        {
            "MINIO_ENDPOINT": "minio:9000",
            "MINIO_ACCESS_KEY": "key",
            "MINIO_SECRET_KEY": "hunter2",
            "VORTEX_REDIS_URL": "redis://:hunter3@redis:6379/0",
        }
    )
    assert "hunter2" not in repr(settings)
    assert "hunter3" not in repr(settings)


def test_minio_defaults_apply_only_to_a_minio_style_endpoint() -> None:
    minio = Settings.from_env({"MINIO_ENDPOINT": "localhost:9000"})
    assert (minio.s3_access_key, minio.s3_secret_key) == ("minioadmin", "minioadmin")
    aws = Settings.from_env({"VORTEX_S3_BUCKET": "prod-functions"})
    assert aws.store == "s3" and aws.s3_endpoint_url is None
    assert aws.s3_access_key is None  # botocore's chain: AWS_* variables, roles
    assert aws.s3_addressing_style == "virtual"
    with_aws_keys = Settings.from_env({"MINIO_ENDPOINT": "x:1", "AWS_ACCESS_KEY_ID": "AKIA"})
    assert with_aws_keys.s3_access_key is None


@pytest.mark.parametrize(
    ("env", "url", "style"),
    [
        ({"MINIO_ENDPOINT": "minio:9000"}, "http://minio:9000", "path"),
        ({"MINIO_ENDPOINT": "minio:9000", "VORTEX_S3_TLS": "1"}, "https://minio:9000", "path"),
        ({"MINIO_ENDPOINT": "https://s3.example.com/"}, "https://s3.example.com", "path"),
        (
            {"VORTEX_S3_ENDPOINT": "https://acct.r2.cloudflarestorage.com", "MINIO_ENDPOINT": "x"},
            "https://acct.r2.cloudflarestorage.com",
            "path",
        ),
        (
            {
                "VORTEX_S3_ENDPOINT": "https://s3.eu-west-1.amazonaws.com",
                "VORTEX_S3_PATH_STYLE": "no",
            },
            "https://s3.eu-west-1.amazonaws.com",
            "virtual",
        ),
    ],
)
def test_endpoint_forms(env: dict[str, str], url: str, style: str) -> None:
    settings = Settings.from_env(env)
    assert settings.s3_endpoint_url == url
    assert settings.s3_addressing_style == style


@pytest.mark.parametrize(
    "env",
    [
        {"MINIO_ENDPOINT": "ftp://minio:9000"},
        {"MINIO_ENDPOINT": "minio:port"},
        {"MINIO_ENDPOINT": "http://minio:9000", "VORTEX_S3_TLS": "true"},
        {"MINIO_ENDPOINT": "minio:9000", "VORTEX_S3_TLS": "maybe"},
        {"MINIO_ENDPOINT": "minio:9000", "MINIO_ACCESS_KEY": "only-half"},
        {"VORTEX_S3_BUCKET": "b", "VORTEX_S3_READ_TIMEOUT_MS": "0"},
        {"REDIS_ADDR": "redis://redis:6379"},
        {"REDIS_ADDR": "redis:sixthousand"},
        {"VORTEX_REDIS_URL": "http://redis:6379"},
    ],
)
def test_bad_values_are_config_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env(env)


def test_redis_forms() -> None:
    assert Settings.from_env({"REDIS_ADDR": "cache"}).redis_url == "redis://cache:6379/0"
    assert Settings.from_env({"REDIS_ADDR": "[::1]:6380"}).redis_url == "redis://[::1]:6380/0"
    url = "rediss://user:pw@cache:6380/2"
    settings = Settings.from_env({"VORTEX_REDIS_URL": url, "REDIS_ADDR": "ignored:1"})
    assert settings.redis_url == url


def test_s3_timeouts_and_attempts() -> None:
    settings = Settings.from_env(
        {
            "VORTEX_S3_BUCKET": "b",
            "VORTEX_S3_REGION": "eu-central-1",
            "VORTEX_S3_CONNECT_TIMEOUT_MS": "250",
            "VORTEX_S3_READ_TIMEOUT_MS": "1500",
            "VORTEX_S3_MAX_ATTEMPTS": "4",
        }
    )
    assert settings.s3_region == "eu-central-1"
    assert (settings.s3_connect_timeout, settings.s3_read_timeout) == (0.25, 1.5)
    assert settings.s3_max_attempts == 4


def test_the_auth_cache_period(tmp_path: Path) -> None:
    assert Settings.from_env({}).auth_cache_ms == 2000
    settings = Settings.from_env({"VORTEX_AUTH_CACHE_MS": "150", "VORTEX_DATA_DIR": str(tmp_path)})
    assert make_api_keys(settings).cache_seconds == 0.15
    assert Settings.from_env({"VORTEX_AUTH_CACHE_MS": "0"}).auth_cache_ms == 0
    with pytest.raises(ConfigError):
        Settings.from_env({"VORTEX_AUTH_CACHE_MS": "-1"})
