"""postal-mime on Vortex: the app of tests/apps/postal-mime parses a MIME message as Cloudflare's
Email Workers docs use the package, bundled with it by ``vortex deploy``.

It ran unchanged, its answer byte for byte workerd's (2026-11-17) for the same bundle and
message; it guards TextDecoder's legacy encodings (ISO-8859-1, windows-1252, KOI8-R) as a
library reaches them, through MIME's encoded words, quoted-printable and base64.
"""

from __future__ import annotations

import shutil

import aiohttp
import pytest

from tests.npm_apps import apps_project, call, cli_deploy
from tests.server import ServerProcess

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")

MESSAGE = (
    "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.com>\r\n"
    "To: Bea <bea@example.com>\r\n"
    "Subject: =?UTF-8?B?SMOpbGxv?= =?windows-1252?Q?=80uro?=\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="XX"\r\n'
    "\r\n"
    "--XX\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Caf=E9 cr=E8me\r\n"
    "--XX\r\n"
    "Content-Type: text/html; charset=koi8-r\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PGI+8NLJ18XUPC9iPg==\r\n"
    "--XX\r\n"
    "Content-Type: application/octet-stream\r\n"
    'Content-Disposition: attachment; filename="a.bin"\r\n'
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAw==\r\n"
    "--XX--\r\n"
)


async def test_postal_mime_parses_a_message(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server: ServerProcess
) -> None:
    folder = apps_project(request, tmp_path_factory) / "postal-mime"
    assert cli_deploy(server, folder, "index.mjs", "--name", "postal-mime-app")["name"] == (
        "postal-mime-app"
    )
    async with aiohttp.ClientSession() as client:
        answer = await call(
            client, "POST", server.fn_url("postal-mime-app", "/"), data=MESSAGE.encode()
        )
    assert answer.json() == {
        "subject": "Héllo€uro",
        "from": {"address": "andre@example.com", "name": "André"},
        "to": [{"address": "bea@example.com", "name": "Bea"}],
        "text": "Café crème\nПривет",
        "html": "<div>Café crème</div>\n<b>Привет</b>",
        "attachments": [
            {"filename": "a.bin", "mimeType": "application/octet-stream", "bytes": [0, 1, 2, 3]}
        ],
    }
