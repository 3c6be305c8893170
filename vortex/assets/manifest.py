"""A version's static assets: the manifest (path → content hash and size) and their settings.

A deploy's ``"assets"`` object is read here::

    {"manifest": {"/index.html": {"hash": "<sha256 hex>", "size": 1234}, ...},
     "config": {"binding": "ASSETS", "not_found_handling": "single-page-application",
                "html_handling": "auto-trailing-slash", "run_worker_first": false}}

The manifest is stored as a content-addressed blob of its own (``to_bytes``) beside the asset
bytes, and the version's record holds its hash, counts and the settings (``AssetsRef``): a
record stays small however many files a site has, and listings that read records do not read
manifests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from vortex.assets.headers import HeaderRule, header_rules
from vortex.assets.paths import check_path, is_sha256
from vortex.assets.redirects import RedirectRules, redirect_rules
from vortex.errors import AssetsTooLarge, AssetTooLarge, InvalidAssets, TooManyAssets, size_phrase

NotFoundHandling = Literal["none", "404-page", "single-page-application"]
HtmlHandling = Literal["auto-trailing-slash", "none"]
NOT_FOUND_HANDLING: tuple[NotFoundHandling, ...] = ("none", "404-page", "single-page-application")
HTML_HANDLING: tuple[HtmlHandling, ...] = ("auto-trailing-slash", "none")
MAX_WORKER_FIRST_PATTERNS = 100
MAX_HEADERS_CHARS = 64 << 10
MAX_REDIRECTS_CHARS = 2 << 20
"""2,100 rules of up to 1,000 characters fit (Cloudflare's limits)."""
BINDING_NAME_CHARS = 64


@dataclass(frozen=True, slots=True)
class AssetLimits:
    max_file_bytes: int = 25 << 20
    max_files: int = 10_000
    max_total_bytes: int = 512 << 20


@dataclass(frozen=True, slots=True)
class AssetConfig:
    binding: str | None = None
    """The name of ``env``'s Fetcher (``env.ASSETS``); None: the code has none."""
    not_found_handling: NotFoundHandling = "none"
    html_handling: HtmlHandling = "auto-trailing-slash"
    run_worker_first: bool | tuple[str, ...] = False
    """True: every request runs the code first; patterns (``/api/*``, ``!/api/docs/*``): the
    requests whose path matches one (and no ``!`` one) do."""
    headers: str = ""
    """The text of the directory's ``_headers`` file (``vortex.assets.headers``), checked."""
    redirects: str = ""
    """The text of its ``_redirects`` file (``vortex.assets.redirects``), checked."""

    @property
    def header_rules(self) -> tuple[HeaderRule, ...]:
        return header_rules(self.headers)

    @property
    def redirect_rules(self) -> RedirectRules:
        return redirect_rules(self.redirects)

    def to_json(self) -> dict[str, Any]:
        first = self.run_worker_first
        shown: dict[str, Any] = {
            "binding": self.binding,
            "not_found_handling": self.not_found_handling,
            "html_handling": self.html_handling,
            "run_worker_first": first if isinstance(first, bool) else list(first),
        }
        if self.headers:
            shown["headers"] = self.headers
        if self.redirects:
            shown["redirects"] = self.redirects
        return shown


@dataclass(frozen=True, slots=True)
class AssetsRef:
    """What a version's record holds of its assets."""

    manifest_sha256: str
    files: int
    size: int
    config: AssetConfig

    def to_json(self) -> dict[str, Any]:
        return {
            "manifest_sha256": self.manifest_sha256,
            "files": self.files,
            "size": self.size,
            "config": self.config.to_json(),
        }

    @classmethod
    def from_json(cls, data: object) -> AssetsRef | None:
        if not isinstance(data, dict):
            return None
        return cls(
            manifest_sha256=data["manifest_sha256"],
            files=int(data["files"]),
            size=int(data["size"]),
            config=parse_config(data.get("config") or {}),
        )


Manifest = dict[str, tuple[str, int]]
"""Path → (SHA-256 hex of the bytes, size)."""


def manifest_bytes(manifest: Manifest) -> bytes:
    """The stored form: sorted, so one set of files is one blob whatever the upload's order."""
    return orjson.dumps({path: [digest, size] for path, (digest, size) in sorted(manifest.items())})


def manifest_from_bytes(data: bytes) -> Manifest:
    raw = orjson.loads(data)
    return {path: (entry[0], int(entry[1])) for path, entry in raw.items()}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class AssetsUpload:
    manifest: Manifest
    config: AssetConfig

    @property
    def total(self) -> int:
        return sum(size for _, size in self.manifest.values())


def parse_assets(raw: object, limits: AssetLimits) -> AssetsUpload:
    """The deploy's ``"assets"``, checked against ``limits``; each refusal has its own code."""
    if not isinstance(raw, dict):
        raise InvalidAssets('"assets" must be an object {"manifest": {...}, "config": {...}}')
    unknown = sorted(set(raw) - {"manifest", "config"})
    if unknown:
        raise InvalidAssets(f'"assets" has unknown keys: {", ".join(unknown)}')
    files = raw.get("manifest")
    if not isinstance(files, dict):
        raise InvalidAssets('"assets.manifest" must be an object of paths to {hash, size}')
    if len(files) > limits.max_files:
        raise TooManyAssets(
            f"{len(files)} assets: a version may have at most {limits.max_files} "
            "(VORTEX_ASSETS_MAX_FILES)"
        )
    manifest: Manifest = {}
    total = 0
    for path, entry in files.items():
        check_path(path)
        if not isinstance(entry, dict):
            raise InvalidAssets(f'"assets.manifest" entry {path[:80]!r} must be {{hash, size}}')
        digest, size = entry.get("hash"), entry.get("size")
        if not is_sha256(digest):
            raise InvalidAssets(f"asset {path[:80]!r}: hash must be 64 lowercase hex digits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidAssets(f"asset {path[:80]!r}: size must be a whole number of bytes")
        if size > limits.max_file_bytes:
            raise AssetTooLarge(
                f"asset {path[:80]!r} ({size_phrase(size)}) is over the limit of "
                f"{size_phrase(limits.max_file_bytes)} a file (VORTEX_ASSETS_MAX_FILE_BYTES)"
            )
        total += size
        assert isinstance(digest, str)
        manifest[path] = (digest, size)
    if total > limits.max_total_bytes:
        raise AssetsTooLarge(
            f"the assets together ({size_phrase(total)}) are over the limit of "
            f"{size_phrase(limits.max_total_bytes)} a version (VORTEX_ASSETS_MAX_TOTAL_BYTES)"
        )
    return AssetsUpload(manifest, parse_config(raw.get("config") or {}))


def parse_config(raw: object) -> AssetConfig:
    if not isinstance(raw, dict):
        raise InvalidAssets('"assets.config" must be an object')
    known = {"binding", "not_found_handling", "html_handling", "run_worker_first"}
    unknown = sorted(set(raw) - known - {"headers", "redirects"})
    if unknown:
        raise InvalidAssets(f'"assets.config" has unknown keys: {", ".join(unknown)}')
    binding = raw.get("binding")
    if binding is not None and (
        not isinstance(binding, str)
        or not binding.isidentifier()
        or len(binding) > BINDING_NAME_CHARS
    ):
        raise InvalidAssets('"binding" must be a JavaScript name such as "ASSETS"')
    if binding == "KV":
        raise InvalidAssets('"binding" may not be "KV": that is the function\'s KV namespace')
    not_found = raw.get("not_found_handling", "none")
    if not_found not in NOT_FOUND_HANDLING:
        raise InvalidAssets(f'"not_found_handling" must be one of {", ".join(NOT_FOUND_HANDLING)}')
    html = raw.get("html_handling", "auto-trailing-slash")
    if html not in HTML_HANDLING:
        raise InvalidAssets(
            f'"html_handling" {str(html)[:40]!r} is not supported: Vortex has '
            f"{' and '.join(HTML_HANDLING)}"
        )
    headers = raw.get("headers", "")
    if not isinstance(headers, str) or len(headers) > MAX_HEADERS_CHARS:
        raise InvalidAssets(
            f'"headers" must be the text of a _headers file, up to {MAX_HEADERS_CHARS} characters'
        )
    redirects = raw.get("redirects", "")
    if not isinstance(redirects, str) or len(redirects) > MAX_REDIRECTS_CHARS:
        raise InvalidAssets(
            f'"redirects" must be the text of a _redirects file, up to {MAX_REDIRECTS_CHARS} '
            "characters"
        )
    first = _worker_first(raw.get("run_worker_first", False))
    header_rules(headers)  # refused here, at deploy, if it is not a _headers file
    redirect_rules(redirects)  # and likewise
    return AssetConfig(binding, not_found, html, first, headers, redirects)


def _worker_first(raw: object) -> bool | tuple[str, ...]:
    if isinstance(raw, bool):
        return raw
    if (
        not isinstance(raw, list)
        or len(raw) > MAX_WORKER_FIRST_PATTERNS
        or not all(
            isinstance(p, str) and p.removeprefix("!").startswith("/") and len(p) <= 256
            for p in raw
        )
    ):
        raise InvalidAssets(
            '"run_worker_first" must be true, false or a list of path patterns '
            '("/api/*", "!/api/docs/*")'
        )
    return tuple(raw)
