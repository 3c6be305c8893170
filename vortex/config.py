"""Configuration: one frozen dataclass, read from the environment in one place.

Nothing set means the embedded defaults: a local data directory and an in-process log bus.
Setting an S3 endpoint or bucket selects the S3 store; setting a Redis address selects the Redis
log bus. The original Vortex's names (``MINIO_ENDPOINT``, ``MINIO_ACCESS_KEY``,
``MINIO_SECRET_KEY``, ``REDIS_ADDR``) keep working; docs/scaling.md lists every variable.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from vortex.isolates.limits import Limits

StoreBackend = Literal["local", "s3"]
LogBusBackend = Literal["memory", "redis"]


class ConfigError(ValueError):
    """A variable of the environment has a value Vortex cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


D1_RESULT_CEILING = 48 << 20
"""Under the 64 MiB a host frame carries (``vortex.isolates.protocol.MAX_FRAME``), with room."""
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(env: Mapping[str, str], name: str) -> bool | None:
    """``None`` when unset, so callers can tell "not said" from "said no"."""
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false (1/0, yes/no, on/off), got {raw!r}")


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """Read in milliseconds (as every other duration of Vortex), kept in seconds for botocore."""
    default_ms = round(default * 1000)
    return _int(env, name, default_ms, 1) / 1000


def _first(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def _s3_endpoint_url(env: Mapping[str, str]) -> str | None:
    """``VORTEX_S3_ENDPOINT`` or the original's ``MINIO_ENDPOINT``: a URL, or host:port.

    A bare host:port is plain HTTP, as MinIO serves it by default, unless ``VORTEX_S3_TLS`` says
    otherwise; a URL's scheme decides by itself, and a ``VORTEX_S3_TLS`` that contradicts it is an
    error rather than silently ignored.
    """
    found = _first(env, "VORTEX_S3_ENDPOINT", "MINIO_ENDPOINT")
    tls = _bool(env, "VORTEX_S3_TLS")
    if found is None:
        return None
    name, raw = found
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https"):
            raise ConfigError(f"{name} must be an http or https URL or host:port, got {raw!r}")
        if tls is not None and tls != (parts.scheme == "https"):
            raise ConfigError(f"VORTEX_S3_TLS contradicts the scheme of {name}={raw!r}")
        url = raw.rstrip("/")
    else:
        parts = urlsplit(f"//{raw}")
        url = f"{'https' if tls else 'http'}://{raw.rstrip('/')}"
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ConfigError(f"{name} has an invalid port: {raw!r}") from None
    if not parts.hostname:
        raise ConfigError(f"{name} must name a host, got {raw!r}")
    return url


def public_origin(raw: str, name: str = "VORTEX_FUNCTIONS_PUBLIC_URL") -> str | None:
    """The functions' public origin, normalised (``https://fn.example.com``); None when
    ``raw`` is empty. An origin, not a URL with a path: each function has its own subdomain."""
    raw = raw.strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{name} must be the http or https origin of the functions' domain, such as "
            f"https://fn.example.com, got {raw!r}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(
            f"{name} is an origin (scheme, domain and port): no path, query or user, got {raw!r}"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{name} has an invalid port: {raw!r}") from None
    host = parts.hostname.rstrip(".")
    if _is_address(host):
        raise ConfigError(
            f"{name} must name a domain (functions are its subdomains), not an address: {raw!r}"
        )
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + ("" if port in (None, default) else f":{port}")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _redis_url(env: Mapping[str, str]) -> str | None:
    """``VORTEX_REDIS_URL`` (any redis-py URL: redis://, rediss://, unix://) wins over the
    original's ``REDIS_ADDR`` (host:port, port 6379 when left out)."""
    url = env.get("VORTEX_REDIS_URL", "").strip()
    if url:
        if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError("VORTEX_REDIS_URL must be a redis://, rediss:// or unix:// URL")
        return url
    addr = env.get("REDIS_ADDR", "").strip()
    if not addr:
        return None
    if "://" in addr:
        raise ConfigError(f"REDIS_ADDR is host:port (use VORTEX_REDIS_URL for a URL), got {addr!r}")
    parts = urlsplit(f"//{addr}")
    try:
        port = parts.port or 6379
    except ValueError:
        raise ConfigError(f"REDIS_ADDR has an invalid port: {addr!r}") from None
    if not parts.hostname:
        raise ConfigError(f"REDIS_ADDR must name a host, got {addr!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"redis://{host}:{port}/0"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".vortex")
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    """Host processes serving invocations (the pool's ``max_workers``)."""
    spare_workers: int = 1
    """Hosts started and locked down ahead of need, to replace a killed one at once."""
    host_memory_mb: int = 1024
    """Resident memory a host may reach before it is replaced."""
    host_max_runs: int = 100_000
    """Runs after which a host is recycled gracefully (0: never): pythonmonkey keeps under a
    KB of every run of a warm module (76 MiB per 100,000 hello-world requests), so a host that
    served many grows until the memory limit would kill it. ``host_recycle_mb`` catches a
    function that leaks faster; a recycle costs a host start (0.5-0.7 s of CPU)."""
    host_recycle_mb: int = 0
    """Resident memory past which a host is recycled gracefully; 0: three quarters of
    ``host_memory_mb`` (see ``host_recycle_bytes``)."""
    host_wait_ms: int = 30_000
    """How long a run waits for a host (all busy with other namespaces, or being replaced)
    before it is refused with ``503 pool_unavailable``."""
    host_ping_ms: int = 1_000
    """How often the supervisor pings each host (0: never), see ``host_ping_timeout_ms``."""
    host_ping_timeout_ms: int = 5_000
    """How long a host may leave a ping unanswered, outside its turns, before it is replaced
    (a stopped host, or one whose loop is stuck: isolates/liveness.py)."""
    dedicated_hosts: bool = False
    """No host process ever runs code of two namespaces (docs/auth.md, SECURITY.md)."""
    debug_host_header: bool = False
    """Answer ``POST /execute`` with ``X-Vortex-Host``, the pid of the host that ran it: off by
    default, since it tells a caller which runs share a process with theirs."""
    functions_port: int = 8787
    """The functions listener's port (``wrangler dev``'s); 0: none (docs/http-functions.md)."""
    functions_host: str | None = None
    """The address the functions listener binds; ``None``: the API's (``host``)."""
    functions_domain: str = "localhost"
    """Functions answer at ``{name}.{domain}`` and ``{function-id}.{domain}``."""
    functions_public_url: str | None = None
    """Where clients reach the listener from outside, behind a proxy: the origin of the
    functions' domain (``https://fn.example.com``, normalised: no default port, no slash), so
    that ``hello`` is shown at ``https://hello.fn.example.com``; None: the listener's own
    ``http://{name}.{domain}:{port}``."""
    functions_trust_proxy: bool = False
    """Take ``request.url``'s scheme from ``X-Forwarded-Proto``: only behind a proxy setting it."""
    functions_error_details: bool | None = None
    """Whether a failed run's answer on the listener shows the thrown error's name and message
    to whoever sent the request; ``None``: only when the listener listens on loopback (a
    developer's machine), as Workers show them in ``wrangler dev`` and not in production."""
    functions_header_timeout_ms: int = 10_000
    functions_idle_timeout_ms: int = 30_000
    """A kept-alive connection's time between requests; a WebSocket's client that sends
    nothing for half of it is pinged, and closed (1001) if it answers nothing for all of it."""
    functions_ws_lifetime_ms: int = 3_600_000
    """The longest a function's WebSocket stays open: then it is closed with 1001."""
    api_idle_timeout_ms: int = 15_000
    """The API's port: time for a request head on a new connection, and between requests."""
    api_connections_per_address: int = 256
    """Open connections to the API's port from one client address (0: no cap; at most a
    quarter of what the open-files limit leaves, ``vortex/http/admission.py``)."""
    max_code_bytes: int = 10 << 20
    """A deploy's code, uncompressed UTF-8 (files and .wasm included). Workers take 3 MB
    (free) or 10 MB (paid) after gzip; real bundles of 1-3 MB (linkedom with marked, chanfana
    with zod) were over the 1 MiB of before and had to be minified to deploy."""
    max_body_bytes: int = 2 << 20
    assets_max_file_bytes: int = 25 << 20
    """One static asset at most (Workers' limit: 25 MiB); docs/http-functions.md#static-assets."""
    assets_max_files: int = 10_000
    """Static assets of one version at most (their manifest must fit in a deploy's body)."""
    assets_max_total_bytes: int = 512 << 20
    """A version's static assets together at most."""
    assets_cache_bytes: int = 64 << 20
    """Asset bytes the supervisor keeps in memory (each host keeps a quarter of this)."""
    limits: Limits = field(default_factory=Limits)
    code_cache_entries: int = 1024
    log_queue_lines: int = 10_000
    """Lines of the server's log that may wait for the thread writing them to stderr; past
    them, new lines are dropped and counted (vortex.logqueue)."""
    history_runs: int = 50
    """Runs kept in each function's invocation history (docs/history.md)."""
    # -- per-function KV and API keys: see docs/kv.md and docs/auth.md --------------------------
    kv_max_key_bytes: int = 512
    kv_max_value_bytes: int = 128 << 10
    kv_max_list_limit: int = 1000
    """The most keys one ``list`` page may return (and its default ``limit``)."""
    r2_max_object_bytes: int = 32 << 20
    """One R2 object (docs/r2.md): it crosses the host↔supervisor pipe whole, in one frame."""
    d1_max_database_bytes: int = 500 << 20
    """One D1 database's file (docs/d1.md): past it, writes fail with SQLITE_FULL, as in D1."""
    d1_max_result_bytes: int = 16 << 20
    """The rows one D1 call answers, as JSON: they cross the pipe whole, in one frame."""
    d1_query_ms: int = 30_000
    """The statements of one D1 call together (D1's own limit), then they are interrupted."""
    auth_cache_ms: int = 2000
    """How long a server trusts its last look at an API key (positive and negative) and at
    whether any key exists: a new or revoked key takes effect within this period (docs/auth.md)."""
    host_cgroups: bool = True
    """Put each host in a memory cgroup of its own where the machine allows (docs: README)."""
    warm_instances: bool = True
    """Keep a module function's instance in its host between requests, as Workers does (module
    state persists between requests of one version); off: every request evaluates it afresh."""
    cron: bool = True
    """Run the schedules of deployed functions on this node (docs/cron.md). With several nodes
    on one Redis each tick runs once whichever nodes have it on."""
    cron_refresh_ms: int = 15_000
    """How often the schedules are read again: a schedule deployed on another node fires from
    its first tick at least this long after the deploy."""
    secrets_key: str | None = field(default=None, repr=False)
    """``VORTEX_SECRETS_KEY``: seals function secrets at rest (``vortex.storage.sealing``);
    ``None``: a key file in the data directory, made on first start."""
    allowed_hosts: tuple[str, ...] = ()
    """Names (besides addresses, ``localhost`` and ``*.localhost``) the API answers for in its
    ``Host`` header; ``*.example.com`` for subdomains, ``*`` for any. Without keys the API
    refuses other names (DNS rebinding); with keys it checks them only when some are listed."""
    allow_unauthenticated: bool = False
    """Serve with no API keys on an address other than loopback: ``vortex serve`` refuses to
    unless told so, since anyone who reaches the port could then run code on the machine."""

    # -- shared backends (several nodes): see docs/scaling.md ---------------------------------
    store: StoreBackend = "local"
    s3_endpoint_url: str | None = None
    """``None`` means the provider's default endpoint (AWS S3)."""
    s3_bucket: str = "vortex"
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    """``None`` leaves credentials to botocore's usual chain (``AWS_*`` variables, roles)."""
    s3_secret_key: str | None = field(default=None, repr=False)
    s3_path_style: bool | None = None
    """Path-style addressing (``endpoint/bucket/key``), which MinIO and most self-hosted servers
    need, or virtual-hosted style (``bucket.endpoint/key``), AWS's default. ``None``: path style
    exactly when a custom endpoint is set (see ``s3_addressing_style``)."""
    s3_connect_timeout: float = 2.0
    s3_read_timeout: float = 5.0
    s3_max_attempts: int = 2
    """Attempts per S3 request, the first included: few, so a deploy fails fast (503) when S3 is
    down instead of hanging the client for botocore's default of minutes."""
    logbus: LogBusBackend = "memory"
    redis_url: str | None = field(default=None, repr=False)
    """May carry a password, hence kept out of ``repr``."""

    # -- outbound fetch() of functions: see docs/http-functions.md ------------------------------
    fetch_allow_private: bool = False
    """Let functions reach loopback, private, link-local and metadata addresses (tests, labs)."""
    fetch_timeout_ms: int = 10_000
    """Time of one sub-request, redirects and body included."""
    fetch_max_response_bytes: int = 10 << 20

    def __post_init__(self) -> None:
        public = self.functions_public_url
        if public is not None and urlsplit(public).hostname != self.functions_domain:
            raise ConfigError(
                f"the domain of VORTEX_FUNCTIONS_PUBLIC_URL ({public}) must be the functions "
                f"domain, {self.functions_domain!r} (VORTEX_FUNCTIONS_DOMAIN): functions are "
                "told apart by the Host their requests carry, and a proxy passes it on"
            )

    @property
    def functions_listen_host(self) -> str:
        return self.functions_host or self.host

    def function_origin(self, hostname: str) -> str:
        """The URL where clients reach the function that answers at ``hostname`` (a name or an
        id under the functions domain): shown in deploy answers, ``/health`` and ``/fn/``'s
        redirects; not the URL a request's ``request.url`` is made of (its Host is)."""
        if self.functions_public_url is None:
            port = "" if self.functions_port == 80 else f":{self.functions_port}"
            return f"http://{hostname}{port}"
        scheme, _, authority = self.functions_public_url.partition("://")
        port = authority.partition(":")[2]
        return f"{scheme}://{hostname}" + (f":{port}" if port else "")

    @property
    def host_recycle_bytes(self) -> int:
        mb = self.host_recycle_mb or self.host_memory_mb * 3 // 4
        return mb << 20

    @property
    def s3_addressing_style(self) -> Literal["path", "virtual"]:
        path_style = self.s3_path_style
        if path_style is None:
            # A custom endpoint is almost always MinIO-like; AWS itself prefers virtual hosts.
            path_style = self.s3_endpoint_url is not None
        return "path" if path_style else "virtual"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        public_url = public_origin(env.get("VORTEX_FUNCTIONS_PUBLIC_URL", ""))
        limits = Limits(
            cpu_ms=_int(env, "VORTEX_CPU_LIMIT_MS", defaults.limits.cpu_ms, 1),
            wall_ms=_int(env, "VORTEX_WALL_LIMIT_MS", defaults.limits.wall_ms, 1),
            output_bytes=_int(env, "VORTEX_MAX_OUTPUT_BYTES", defaults.limits.output_bytes, 1),
            log_bytes=_int(env, "VORTEX_MAX_LOG_BYTES", defaults.limits.log_bytes, 1),
            log_lines=_int(env, "VORTEX_MAX_LOG_LINES", defaults.limits.log_lines, 1),
            timers=_int(env, "VORTEX_MAX_TIMERS", defaults.limits.timers, 1),
            subrequests=_int(env, "VORTEX_FETCH_MAX_REQUESTS", defaults.limits.subrequests),
            response_bytes=_int(
                env, "VORTEX_MAX_RESPONSE_BYTES", defaults.limits.response_bytes, 1
            ),
            binding_calls=_int(env, "VORTEX_KV_MAX_OPERATIONS", defaults.limits.binding_calls),
            memory_mb=_int(env, "VORTEX_RUN_MEMORY_MB", defaults.limits.memory_mb),
        )
        settings = cls(
            host=env.get("VORTEX_HOST", defaults.host),
            port=_int(env, "VORTEX_PORT", defaults.port),
            data_dir=Path(env.get("VORTEX_DATA_DIR") or defaults.data_dir),
            workers=_int(env, "VORTEX_WORKERS", defaults.workers, 1),
            spare_workers=_int(env, "VORTEX_SPARE_WORKERS", defaults.spare_workers),
            host_memory_mb=_int(env, "VORTEX_HOST_MEMORY_MB", defaults.host_memory_mb, 64),
            host_max_runs=_int(env, "VORTEX_HOST_MAX_RUNS", defaults.host_max_runs),
            host_recycle_mb=_int(env, "VORTEX_HOST_RECYCLE_MB", defaults.host_recycle_mb),
            host_wait_ms=_int(env, "VORTEX_HOST_WAIT_MS", defaults.host_wait_ms, 1),
            host_ping_ms=_int(env, "VORTEX_HOST_PING_MS", defaults.host_ping_ms),
            host_ping_timeout_ms=_int(
                env, "VORTEX_HOST_PING_TIMEOUT_MS", defaults.host_ping_timeout_ms, 1
            ),
            dedicated_hosts=bool(_bool(env, "VORTEX_DEDICATED_HOSTS")),
            debug_host_header=bool(_bool(env, "VORTEX_DEBUG_HOST_HEADER")),
            functions_port=_int(env, "VORTEX_FUNCTIONS_PORT", defaults.functions_port),
            functions_host=env.get("VORTEX_FUNCTIONS_HOST") or None,
            functions_domain=(
                env.get("VORTEX_FUNCTIONS_DOMAIN", "").strip().lower().strip(".")
                or (urlsplit(public_url).hostname if public_url else None)
                or defaults.functions_domain
            ),
            functions_public_url=public_url,
            functions_trust_proxy=bool(_bool(env, "VORTEX_FUNCTIONS_TRUST_PROXY")),
            functions_error_details=_bool(env, "VORTEX_FUNCTIONS_ERROR_DETAILS"),
            functions_header_timeout_ms=_int(
                env, "VORTEX_FUNCTIONS_HEADER_TIMEOUT_MS", defaults.functions_header_timeout_ms, 1
            ),
            functions_idle_timeout_ms=_int(
                env, "VORTEX_FUNCTIONS_IDLE_TIMEOUT_MS", defaults.functions_idle_timeout_ms, 1
            ),
            functions_ws_lifetime_ms=_int(
                env, "VORTEX_FUNCTIONS_WS_LIFETIME_MS", defaults.functions_ws_lifetime_ms, 1
            ),
            api_idle_timeout_ms=_int(
                env, "VORTEX_API_IDLE_TIMEOUT_MS", defaults.api_idle_timeout_ms, 1
            ),
            api_connections_per_address=_int(
                env, "VORTEX_API_CONNECTIONS_PER_ADDRESS", defaults.api_connections_per_address
            ),
            max_code_bytes=_int(env, "VORTEX_MAX_CODE_BYTES", defaults.max_code_bytes, 1),
            history_runs=_int(env, "VORTEX_HISTORY_RUNS", defaults.history_runs, 1),
            log_queue_lines=_int(env, "VORTEX_LOG_QUEUE_LINES", defaults.log_queue_lines, 1),
            kv_max_key_bytes=_int(env, "VORTEX_KV_MAX_KEY_BYTES", defaults.kv_max_key_bytes, 1),
            kv_max_value_bytes=_int(
                env, "VORTEX_KV_MAX_VALUE_BYTES", defaults.kv_max_value_bytes, 1
            ),
            kv_max_list_limit=_int(env, "VORTEX_KV_MAX_LIST", defaults.kv_max_list_limit, 1),
            r2_max_object_bytes=_int(
                env, "VORTEX_R2_MAX_OBJECT_BYTES", defaults.r2_max_object_bytes, 1
            ),
            d1_max_database_bytes=_int(
                env, "VORTEX_D1_MAX_DATABASE_BYTES", defaults.d1_max_database_bytes, 1 << 16
            ),
            d1_max_result_bytes=min(
                _int(env, "VORTEX_D1_MAX_RESULT_BYTES", defaults.d1_max_result_bytes, 1),
                D1_RESULT_CEILING,
            ),
            d1_query_ms=_int(env, "VORTEX_D1_QUERY_MS", defaults.d1_query_ms, 1),
            auth_cache_ms=_int(env, "VORTEX_AUTH_CACHE_MS", defaults.auth_cache_ms),
            allow_unauthenticated=bool(_bool(env, "VORTEX_ALLOW_UNAUTHENTICATED")),
            secrets_key=env.get("VORTEX_SECRETS_KEY") or None,
            allowed_hosts=tuple(
                name.strip().lower().rstrip(".")
                for name in env.get("VORTEX_ALLOWED_HOSTS", "").split(",")
                if name.strip()
            ),
            cron=_bool(env, "VORTEX_CRON") is not False,
            warm_instances=_bool(env, "VORTEX_WARM_INSTANCES") is not False,
            host_cgroups=_bool(env, "VORTEX_HOST_CGROUPS") is not False,
            cron_refresh_ms=_int(env, "VORTEX_CRON_REFRESH_MS", defaults.cron_refresh_ms, 100),
            max_body_bytes=_int(env, "VORTEX_MAX_BODY_BYTES", defaults.max_body_bytes, 1),
            assets_max_file_bytes=_int(
                env, "VORTEX_ASSETS_MAX_FILE_BYTES", defaults.assets_max_file_bytes, 1
            ),
            assets_max_files=_int(env, "VORTEX_ASSETS_MAX_FILES", defaults.assets_max_files, 1),
            assets_max_total_bytes=_int(
                env, "VORTEX_ASSETS_MAX_TOTAL_BYTES", defaults.assets_max_total_bytes, 1
            ),
            assets_cache_bytes=_int(
                env, "VORTEX_ASSETS_CACHE_BYTES", defaults.assets_cache_bytes, 0
            ),
            limits=limits,
            **_backend_settings(env, defaults),
            fetch_allow_private=bool(_bool(env, "VORTEX_FETCH_ALLOW_PRIVATE")),
            fetch_timeout_ms=_int(env, "VORTEX_FETCH_TIMEOUT_MS", defaults.fetch_timeout_ms, 1),
            fetch_max_response_bytes=_int(
                env, "VORTEX_FETCH_MAX_RESPONSE_BYTES", defaults.fetch_max_response_bytes, 1
            ),
        )
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        return replace(settings, **overrides)


def _backend_settings(env: Mapping[str, str], defaults: Settings) -> dict[str, Any]:
    endpoint = _s3_endpoint_url(env)
    bucket = env.get("VORTEX_S3_BUCKET", "").strip()
    use_s3 = endpoint is not None or bool(bucket)
    access = _first(env, "VORTEX_S3_ACCESS_KEY", "MINIO_ACCESS_KEY")
    secret = _first(env, "VORTEX_S3_SECRET_KEY", "MINIO_SECRET_KEY")
    if (access is None) != (secret is None):
        raise ConfigError("set both the S3 access key and the secret key, or neither")
    access_key = access[1] if access else None
    secret_key = secret[1] if secret else None
    if access_key is None and endpoint is not None and not env.get("AWS_ACCESS_KEY_ID"):
        # The original documents minioadmin/minioadmin as the defaults for its MinIO endpoint;
        # with no endpoint (AWS) or AWS_* credentials, botocore's own chain is the better guess.
        access_key, secret_key = "minioadmin", "minioadmin"
    path_style = _bool(env, "VORTEX_S3_PATH_STYLE")
    redis_url = _redis_url(env)
    return {
        "store": "s3" if use_s3 else "local",
        "s3_endpoint_url": endpoint,
        "s3_bucket": bucket or defaults.s3_bucket,
        "s3_region": env.get("VORTEX_S3_REGION", "").strip() or defaults.s3_region,
        "s3_access_key": access_key,
        "s3_secret_key": secret_key,
        "s3_path_style": path_style,
        "s3_connect_timeout": _seconds(
            env, "VORTEX_S3_CONNECT_TIMEOUT_MS", defaults.s3_connect_timeout
        ),
        "s3_read_timeout": _seconds(env, "VORTEX_S3_READ_TIMEOUT_MS", defaults.s3_read_timeout),
        "s3_max_attempts": _int(env, "VORTEX_S3_MAX_ATTEMPTS", defaults.s3_max_attempts, 1),
        "logbus": "redis" if redis_url else "memory",
        "redis_url": redis_url,
    }
