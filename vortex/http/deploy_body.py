"""The body of ``POST /deploy``, read and checked: what is deployed, and with what settings.

{"code": "...", "filename": "index.js"}                       a script (or a one-file module)
{"code": "...", "filename": "index.ts"}                       the same in TypeScript
{"files": {"index.mjs": "...", "lib.mjs": "..."}, "entry": "index.mjs"}    a module upload
{"files": {"index.ts": "...", "lib.ts": "..."}}                        the same in TypeScript
+ optional "env": {"KEY": "value"}, "secrets": {"KEY": "value"},
  "allow_hosts": ["api.example.com", "*.example.org"], "schedule": "*/5 * * * *"
  (or "schedules": ["*/5 * * * *", "0 0 * * *"], up to MAX_SCHEDULES; "schedule" takes a list too),
  "routes": ["api.example.com/v1/*"] (with a "name" only: vortex.domainroutes),
  "r2_buckets": [{"binding": "BUCKET", "bucket_name": "uploads"}] (vortex.r2.declaration),
  "services": [{"binding": "AUTH", "service": "auth-worker", "entrypoint"?}] (vortex.services),
  "d1_databases": [{"binding": "DB", "database_name": "app"}] (vortex.d1.declaration)
  each left out: the active version's (a new version of a name keeps it); null or empty: none
Any other field is refused (``DEPLOY_FIELDS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vortex.cron.schedule import parse_schedules
from vortex.d1.declaration import parse_d1_databases
from vortex.deploysettings import KEEP, MAX_ENV_BYTES, Keep, SettingsChange
from vortex.domainroutes import parse_routes
from vortex.errors import InvalidRequest, PayloadTooLarge, size_phrase
from vortex.http.responses import refuse_unknown_fields
from vortex.modules.detect import (
    TYPESCRIPT_EXTENSIONS,
    Upload,
    is_module_name,
    is_typescript,
    might_be_module,
    upload_from_files,
)
from vortex.outbound.policy import InvalidHostPattern, normalize_patterns
from vortex.r2.declaration import parse_r2_buckets
from vortex.services.declaration import parse_services

DEPLOY_PATH = "/deploy"
CODE_LIMIT_SETTING = "VORTEX_MAX_CODE_BYTES"
DEPLOY_BODY_ROOM = 1 << 20
"""What a deploy's JSON holds beside its code: names, env, settings."""


def deploy_body_limit(max_code_bytes: int, max_body_bytes: int) -> int:
    """The bytes of a deploy's JSON body: twice its code (JSON escapes quotes and newlines,
    base64 makes .wasm 4/3) and room for the rest; never below the API's body limit. The code's
    own limit is checked once the body is read, in its own words."""
    return max(max_body_bytes, 2 * max_code_bytes + DEPLOY_BODY_ROOM)


FILENAME = re.compile(r"[\w][\w.-]{0,99}")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MAX_ENV_ENTRIES = 128


@dataclass(frozen=True, slots=True)
class DeployRequest:
    upload: Upload
    filename: str
    module: bool
    """Known to be a module (several files, a .mjs name); else it is one when the script
    grammar refuses it and a top-level ``export`` is there (``maybe_module``)."""
    maybe_module: bool
    settings: SettingsChange
    """The schedules normalised (single spaces), checked by ``parse_schedules``."""

    @property
    def code(self) -> str:
        return self.upload.files[self.upload.entry]

    @property
    def typescript(self) -> bool:
        """A one-file upload in TypeScript, whose types esbuild strips before anything else."""
        return is_typescript(self.upload.entry)


def _variables(body: dict[str, Any], key: str) -> dict[str, str] | Keep:
    if key not in body:
        return KEEP
    value = body[key]
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidRequest(f'"{key}" must be an object of names to string values')
    if len(value) > MAX_ENV_ENTRIES:
        raise InvalidRequest(f'"{key}" holds at most {MAX_ENV_ENTRIES} entries')
    for name in value:
        if not ENV_NAME.match(name):
            raise InvalidRequest(
                f'"{key}": {name[:60]!r} is not a variable name (letters, digits and _, '
                "not starting with a digit)"
            )
    return dict(value)


def _schedule(body: dict[str, Any]) -> tuple[str, ...] | Keep:
    given = [key for key in ("schedule", "schedules") if key in body]
    if not given:
        return KEEP
    if len(given) > 1:
        raise InvalidRequest('give "schedule" or "schedules", not both')
    key = given[0]
    value = body[key]
    if value is None or value == "":
        return ()
    if isinstance(value, str) and key == "schedule":
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidRequest(
            f'"{key}" must be a cron expression such as "*/5 * * * *", or a list of them'
        )
    return parse_schedules(value)


def _allow_hosts(body: dict[str, Any]) -> tuple[str, ...] | Keep:
    if "allow_hosts" not in body:
        return KEEP
    hosts = body["allow_hosts"]
    if hosts is None:
        return ()
    if not isinstance(hosts, list):
        raise InvalidRequest('"allow_hosts" must be a list of host names')
    try:
        return normalize_patterns(hosts)
    except InvalidHostPattern as exc:
        raise InvalidRequest(f'"allow_hosts": {exc}') from None


def _routes(body: dict[str, Any], functions_domain: str) -> tuple[str, ...] | Keep:
    if "routes" not in body:
        return KEEP
    routes = body["routes"]
    if routes is None:
        return ()
    return parse_routes(routes, functions_domain)


def _settings(body: dict[str, Any], functions_domain: str) -> SettingsChange:
    env = _variables(body, "env")
    secrets = _variables(body, "secrets")
    if not isinstance(env, Keep) and not isinstance(secrets, Keep):
        both = sorted(set(env) & set(secrets))
        if both:
            raise InvalidRequest(f'{", ".join(both)} is given both in "env" and in "secrets"')
    given = {
        **(env if not isinstance(env, Keep) else {}),
        **(secrets if not isinstance(secrets, Keep) else {}),
    }
    if sum(len(k) + len(v.encode()) for k, v in given.items()) > MAX_ENV_BYTES:
        raise PayloadTooLarge(f'"env" and "secrets" together are over {MAX_ENV_BYTES} bytes')
    buckets = parse_r2_buckets(body["r2_buckets"]) if "r2_buckets" in body else KEEP
    services = parse_services(body)
    databases = parse_d1_databases(body["d1_databases"]) if "d1_databases" in body else KEEP
    bound = {"r2_buckets": buckets, "services": services, "d1_databases": databases}
    given_bindings = [(k, v) for k, v in bound.items() if not isinstance(v, Keep)]
    for at, (first, names) in enumerate(given_bindings):
        for second, others in given_bindings[at + 1 :]:
            # Each is a binding of env, made for good: one name cannot be two of them.
            both = sorted(set(names) & set(others))
            if both:
                raise InvalidRequest(
                    f'{", ".join(both)} is given both in "{first}" and in "{second}"'
                )
    return SettingsChange(
        env,
        secrets,
        _allow_hosts(body),
        _schedule(body),
        _routes(body, functions_domain),
        buckets,
        services,
        databases,
    )


DEPLOY_FIELDS = frozenset(
    {
        *("code", "filename", "files", "entry", "name", "assets"),
        *("env", "secrets", "allow_hosts", "schedule", "schedules", "routes"),
        *("r2_buckets", "services", "d1_databases"),
    }
)
"""Every field of the body: any other is refused (``refuse_unknown_fields``)."""


def parse_deploy_body(
    body: dict[str, Any], max_code_bytes: int, functions_domain: str = "localhost"
) -> DeployRequest:
    refuse_unknown_fields(body, DEPLOY_FIELDS, "the deploy")
    settings = _settings(body, functions_domain)

    if "files" in body:
        if "code" in body:
            raise InvalidRequest('send either "code" or "files", not both')
        upload = upload_from_files(body["files"], body.get("entry"))
        filename, module, maybe = upload.entry, True, False
    else:
        code = body.get("code")
        if not isinstance(code, str):
            raise InvalidRequest('"code" must be a string holding the function\'s JavaScript')
        if not code.strip():
            raise InvalidRequest('"code" is empty: there is no function to deploy')
        filename = body.get("filename", "index.js")
        if not isinstance(filename, str) or not FILENAME.fullmatch(filename):
            raise InvalidRequest('"filename" must be a plain file name such as "index.js"')
        if filename.endswith((".tsx", ".jsx")):
            raise InvalidRequest(
                f"{filename}: JSX is not supported (a function has no JSX runtime); use .ts or .js"
            )
        if filename.endswith(".d.ts"):
            raise InvalidRequest(f"{filename} holds only declarations: there is nothing to run")
        # esbuild picks its loader by extension; a module under another name is built as .js.
        known = (".mjs", ".js", ".cjs", *TYPESCRIPT_EXTENSIONS)
        build_name = filename if filename.endswith(known) else f"{filename}.js"
        upload = Upload({build_name: code}, build_name)
        module = is_module_name(filename)
        maybe = not module and might_be_module(filename, code)
    size = sum(len(source.encode()) for source in upload.files.values())
    if size > max_code_bytes:
        raise PayloadTooLarge.over_setting(
            f"the code, {size_phrase(size)} of UTF-8,", max_code_bytes, CODE_LIMIT_SETTING
        )
    return DeployRequest(upload, filename, module, maybe, settings)
