"""A hostile HTTP server on loopback (it records what it received and answers as a test tells it),
and the CLI run against it with planted secrets: the attacks of the security tests are real.

Only loopback addresses are ever used. Nothing here asserts a duration; hang guards are bounds
only. The fixtures that start these (`hostile`, `bs`) are in conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from backupshare.emulator.server import DEFAULT_AKSK, DEFAULT_TOKEN, DEFAULT_USER, EmulatorServer

from .helpers import BACKUP, BIN, GUARD, OWN, P1, CliResult

VOLUME = "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
SECRET = "S3CRET-value-never-shown"  # the part of a planted secret that must never be printed


# -- a hostile server ------------------------------------------------------------------------------
@dataclass
class Seen:
    """One request as the hostile server received it."""

    method: str
    target: str  # as on the request line
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


Respond = Callable[["Handler", Seen], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # a handler never waits on a silent client for long
    # Headers and body go out in separate writes: without TCP_NODELAY every answer waits for the
    # client's delayed ACK (~40 ms), as the emulator's Handler explains.
    disable_nagle_algorithm = True
    server: HostileServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        self.server.hostile.connected()  # before parsing: even a TLS hello counts
        super().handle()

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20)) if length > 0 else b""
        parts = urlsplit(self.path)
        seen = Seen(
            self.command,
            self.path,
            parts.path,
            dict(parse_qsl(parts.query, keep_blank_values=True)),
            dict(self.headers.items()),
            body,
        )
        self.server.hostile.record(seen)
        self.server.hostile.respond(self, seen)

    do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = do_CONNECT = _any


class HostileServer(EmulatorServer):
    """The emulator's server class for its prompt stop; what it answers is all Hostile's."""

    hostile: Hostile

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is expected here. socketserver would print the
        # traceback from this thread, and 3.11's traceback module calls ast.parse, whose
        # state is shared with pytest's own (main thread) failure formatting: keep quiet.
        pass


class Hostile:
    """A loopback HTTP server that answers with `respond` and records everything it gets."""

    def __init__(self, respond: Respond | None = None) -> None:
        self.respond = respond or (lambda h, seen: send(h, 502, b"", close=True))
        self.seen: list[Seen] = []
        self.connections = 0
        self.stopping = threading.Event()  # every drip loop ends when this is set
        self._lock = threading.Lock()
        self.server = HostileServer(("127.0.0.1", 0), Handler)
        self.server.hostile = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connected(self) -> None:
        with self._lock:
            self.connections += 1

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def requests(self, method: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if method is None or s.method == method]

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def send(
    h: BaseHTTPRequestHandler,
    status: int,
    payload: Any = None,
    headers: tuple[tuple[str, str], ...] = (),
    content_type: str = "application/json",
    close: bool = False,
) -> None:
    """One whole answer: JSON for a dict/list, bytes as they are."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(data)))
    for name, value in headers:
        h.send_header(name, value)
    if close:
        h.send_header("Connection", "close")
        h.close_connection = True
    h.end_headers()
    h.wfile.write(data)


def record(
    share_id: str | None = None,
    backup_id: str = BACKUP,
    to: str = P1,
    *,
    name: str = "db-nightly",
    description: str = "",
) -> dict[str, Any]:
    """A sharing as the detail list and show return it."""
    return {
        "id": str(uuid.uuid4()) if share_id is None else share_id,
        "backup_id": backup_id,
        "from_project_id": OWN,
        "to_project_id": to,
        "created_at": "2024-05-01T10:00:00.000000",
        "updated_at": "2024-05-01T10:00:00.000000",
        "backup": {
            "id": backup_id,
            "name": name,
            "status": "available",
            "size": 40,
            "volume_id": VOLUME,
            "availability_zone": "eu-de-01",
            "description": description,
            "created_at": "2024-05-01T09:00:00.000000",
        },
    }


# -- the CLI against a hostile server --------------------------------------------------------------
def endpoint_env(url: str) -> dict[str, str | None]:
    return {
        "BACKUPSHARE_ENDPOINT": url,
        "BACKUPSHARE_PROJECT_ID": OWN,
        "BACKUPSHARE_TOKEN": DEFAULT_TOKEN,
    }


def password_env(iam_url: str, endpoint: str) -> dict[str, str | None]:
    return {
        "BACKUPSHARE_ENDPOINT": endpoint,
        "BACKUPSHARE_PROJECT_ID": OWN,
        "BACKUPSHARE_TOKEN": None,
        "BACKUPSHARE_USERNAME": DEFAULT_USER[0],
        "BACKUPSHARE_PASSWORD": DEFAULT_USER[1],
        "BACKUPSHARE_DOMAIN": "acme",
        "BACKUPSHARE_IAM_ENDPOINT": iam_url,
    }


def aksk_env(url: str) -> dict[str, str | None]:
    return {
        "BACKUPSHARE_ENDPOINT": url,
        "BACKUPSHARE_PROJECT_ID": OWN,
        "BACKUPSHARE_TOKEN": None,
        "BACKUPSHARE_ACCESS_KEY": DEFAULT_AKSK[0],
        "BACKUPSHARE_SECRET_KEY": DEFAULT_AKSK[1],
    }


def run_bin(
    *argv: str, env: dict[str, str | None] | None = None, timeout: float = GUARD
) -> subprocess.CompletedProcess[str]:
    """The installed executable in a subprocess, bounded by a hang guard."""
    merged = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return subprocess.run(
        [str(BIN), *argv], capture_output=True, text=True, env=merged, timeout=timeout, check=False
    )


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_config(folder: Path, text: str, mode: int = 0o600) -> Path:
    path = private_dir(folder) / "config.yaml"
    path.write_text(text)
    path.chmod(mode)
    return path


def text_of(result: CliResult | subprocess.CompletedProcess[str]) -> str:
    if isinstance(result, CliResult):
        return result.out + result.err
    return result.stdout + result.stderr


def assert_never_shown(result: CliResult | subprocess.CompletedProcess[str], *secrets: str) -> None:
    shown = text_of(result)
    for secret in secrets:
        assert secret not in shown, f"{secret!r} was printed"


def refusing(h: Handler, seen: Seen) -> None:
    send(h, 503, {"error_code": "APIG.0503", "error_msg": "busy"}, headers=(("Retry-After", "0"),))


# -- records hostile servers serve, and their answers ----------------------------------------------
def backup_record(description: str = "") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": "nightly",
        "status": "available",
        "size": 40,
        "volume_id": "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
        "availability_zone": "eu-de-01",
        "description": description,
        "created_at": "2024-05-01T09:00:00.000000",
    }


def cbr_backup() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": "nightly",
        "status": "available",
        "resource_size": 40,
        "resource_id": VOLUME,
        "resource_az": "eu-de-01",
        "description": "",
        "created_at": "2024-05-01T09:00:00.000000",
        "updated_at": "2024-05-01T09:00:00.000000",
        "project_id": OWN,
        "image_type": "backup",
        "extend_info": {"encrypted": False},
    }
