"""API key tokens: made here, shown once, and kept only as a SHA-256 digest.

A token is ``vx_<label>_<43 characters of base64url>``: 32 random bytes (256 bits) from
``secrets``. The label (the namespace, or ``metrics``) only helps a person (and secret scanners)
tell keys apart; what a key may do comes from its stored record, never from its text.

Why a plain SHA-256 and not bcrypt/scrypt/argon2: slow, salted hashes exist to make guessing a
*low-entropy* secret (a password) from its hash expensive. A 256-bit random token cannot be
guessed whatever the hash costs, so a fast hash loses nothing, lets a request be checked in
microseconds, and lets the digest itself be the lookup key (no per-key salt to try in turn).
Someone who reads the key store learns digests, from which no token can be recovered.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from vortex.auth.errors import InvalidNamespace

PREFIX = "vx_"
RANDOM_BYTES = 32
NAMESPACE_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
"""Lowercase letters, digits and inner hyphens, up to 40: safe in URLs, keys of Redis and file
names, and free of ``_`` so a token's label reads unambiguously."""
DEFAULT_NAMESPACE = "default"
"""The namespace of single-tenant mode (no keys): functions deployed then belong to it, so a key
made later for ``default`` sees them."""


def check_namespace(namespace: str) -> str:
    if not isinstance(namespace, str) or not NAMESPACE_PATTERN.match(namespace):
        raise InvalidNamespace(
            f"invalid namespace {namespace!r}: 1 to 40 lowercase letters, digits and hyphens "
            "(not at either end)"
        )
    return namespace


def new_token(label: str) -> str:
    return f"{PREFIX}{label}_{secrets.token_urlsafe(RANDOM_BYTES)}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(text: str) -> bool:
    """Cheap screening before any store lookup: right prefix, sane length, printable ASCII."""
    return (
        text.startswith(PREFIX) and 20 <= len(text) <= 200 and text.isascii() and text.isprintable()
    )
