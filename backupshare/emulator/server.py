"""The emulator's HTTP side: routes of the VBS sharing API and IAM, error shapes, faults, log.

A strict stand-in for the real service: it enforces API.md's rules, answers errors in the
gateway's, VBS's or Cinder's body shape, and can be told to misbehave (faults) so that the
client's retry and recovery paths can be tested deterministically. It never crashes on bad input:
every request gets an answer (or, when a fault says so, a dropped connection).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import selectors
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..models import BACKUP_STATUSES, LIST_FILTERS, normalize_project_id, normalize_uuid
from .iam import Identity
from .safety import ADMIN_KEY_HEADER, admin_key_matches, is_loopback, redact_entry
from .store import SORT_COLUMNS, BackupSeed, Rejected, Store

MAX_BODY_BYTES = 12 * 1024 * 1024  # the gateway's limit
MAX_URI_BYTES = 32 * 1024
REQUEST_LOG_SIZE = 10_000
DEFAULT_PROJECT = "c13f5220dc1949b0b741ea81a7cd5554"
OTHER_PROJECT = "722513ed0a324dadaabe5b2d0fe848c9"
DEFAULT_TOKEN = "emulator-token"
DEFAULT_USER = ("emulator-user", "emulator-password")
DEFAULT_AKSK = ("EMULATORACCESSKEY000", "emulator-secret-key")
SHARING_PATH = re.compile(r"^/v2/(?P<project>[^/]+)/os-vendor-backup-sharing(?:/(?P<id>[^/]+))?/?$")

CINDER_FAULTS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    500: "computeFault",
    501: "notImplemented",
    502: "badGateway",
    503: "serviceUnavailable",
    504: "gatewayTimeout",
}

DEMO_BACKUPS = (
    BackupSeed("066b1e37-9305-4057-97e5-2e99b21fc71d", DEFAULT_PROJECT, "db-nightly", size=40),
    BackupSeed("3a9e46f5-2b47-4c0e-9a1d-5f2f8c4e7b10", DEFAULT_PROJECT, "web-weekly", size=20),
    BackupSeed(
        "8c2d1f40-6b3a-4e55-b7a0-1e9d2c3b4a50",
        DEFAULT_PROJECT,
        "logs-hourly",
        status="creating",
        size=5,
    ),
    BackupSeed(
        "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
        DEFAULT_PROJECT,
        "vault-encrypted",
        size=10,
        encrypted=True,
    ),
    BackupSeed("5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f", OTHER_PROJECT, "partner-golden-image"),
)


@dataclass
class Fault:
    """One injected misbehaviour, for the next `count` matching requests.

    kinds: `status` (answer STATUS, Retry-After if given), `delay` (handle, then hold the answer
    SECONDS), `reset` (drop the connection with no answer), `commit_then_502` (handle, then
    answer 502), `truncated` (handle, then send half the body), `html` (a 200 portal page),
    `raw` (answer STATUS with BODY and CONTENT_TYPE, unhandled).
    """

    kind: str
    method: str | None = None
    path: str | None = None
    count: int = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    body: str = ""
    content_type: str = "application/json"

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path in path
        )


FAULT_KINDS = ("status", "delay", "reset", "commit_then_502", "truncated", "html", "raw")


@dataclass
class EmulatorConfig:
    """How the emulator is set up: who it is, what it holds, how it answers."""

    project_id: str = DEFAULT_PROJECT
    tokens: list[str] = field(default_factory=lambda: [DEFAULT_TOKEN])
    users: list[tuple[str, str]] = field(default_factory=lambda: [DEFAULT_USER])
    keys: list[tuple[str, str]] = field(default_factory=lambda: [DEFAULT_AKSK])
    backups: list[BackupSeed] | None = None  # None: the demo backups
    max_targets: int = 10
    error_style: str = "vbs"
    latency_ms: int = 0
    failure_rate: float = 0.0
    page_cap: int | None = None
    token_ttl_seconds: int = 24 * 3600
    clock_skew_seconds: int = 0
    db: str = ":memory:"
    seed: int | None = None
    tls_cert: str | None = None  # PEM certificate (and key file) to serve https instead of http
    tls_key: str | None = None
    # Lets GET /_emulator/requests show the credentials it received, to a caller that sends it
    # in X-Emulator-Admin-Key; None: they are never shown over HTTP.
    admin_key: str | None = None


class Emulator:
    """State and behaviour of one emulator instance (the HTTP server wraps it)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store(config.db, max_targets=config.max_targets)
        self.identity = Identity(
            config.project_id,
            token_ttl=timedelta(seconds=config.token_ttl_seconds),
            clock_skew=timedelta(seconds=config.clock_skew_seconds),
        )
        for token in config.tokens:
            self.identity.add_token(token)
        for name, password in config.users:
            self.identity.add_user(name, password)
        for access, secret in config.keys:
            self.identity.add_key(access, secret)
        if not self.store.backups(config.project_id):  # a --db file keeps its own state
            self._seed(config)
        self.faults: list[Fault] = []
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self._lock = threading.Lock()
        self._random = random.Random(config.seed)

    def _seed(self, config: EmulatorConfig) -> None:
        if config.backups is not None:
            for seed in config.backups:
                self.store.add_backup(seed)
            return
        for seed in DEMO_BACKUPS:
            owner = config.project_id if seed.project_id == DEFAULT_PROJECT else seed.project_id
            self.store.add_backup(replace(seed, project_id=owner))
        # A partner's backup shared with us, so that `list-shares --shared-with-me` shows one.
        partner = DEMO_BACKUPS[-1]
        self.store.share(partner.project_id, partner.id, [config.project_id])

    def add_fault(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        with self._lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        if path.startswith("/_emulator"):
            return None
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
            if self.config.failure_rate and self._random.random() < self.config.failure_rate:
                return Fault("status", status=503)
        return None

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def logged(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Requests received (admin calls excluded), optionally by method and path substring."""
        with self._lock:
            entries = list(self.requests)
        return [
            entry
            for entry in entries
            if (method is None or entry["method"] == method)
            and (path is None or path in entry["path"])
        ]

    def seed_shares(self, count: int, project_id: str | None = None) -> int:
        """Creates `count` sharings (and the backups they need) for benchmarks and demos."""
        owner = project_id or self.config.project_id
        per_backup = max(1, self.config.max_targets)
        made = 0
        while made < count:
            backup = BackupSeed(str(uuid.uuid4()), owner, f"bulk-{made // per_backup:06d}")
            self.store.add_backup(backup)
            batch = min(per_backup, count - made)
            targets = [uuid.uuid4().hex for _ in range(batch)]
            self.store.share(owner, backup.id, targets)
            made += batch
        return made


# -- HTTP ------------------------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    """Routes one request; every path ends in exactly one answer (or a dropped connection)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK hold the body back ~40 ms.
    disable_nagle_algorithm = True
    server_version = "backupshare-emulator"
    emulator: Emulator  # set on the subclass made per server
    quiet = True

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    # -- one request -------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        self.request_id = uuid.uuid4().hex
        self._answered = False
        try:
            self._dispatch(method)
        except Rejected as exc:
            self._error(exc.status, exc.code, exc.message)
        except Exception as exc:  # the emulator answers 500 rather than dying on a bug
            self._error(500, "VolumeBackup.0001", f"Internal error: {exc.__class__.__name__}")

    def _dispatch(self, method: str) -> None:
        if len(self.path) > MAX_URI_BYTES:
            raise Rejected(414, "APIG.0201", "Request URI too large.")
        parts = urlsplit(self.path)
        path, query = parts.path, parts.query
        body = self._read_body()
        emulator = self.emulator
        if path.startswith("/_emulator/"):
            self._admin(method, path, body)
            return
        emulator.record(
            {
                "method": method,
                "path": path,
                "query": dict(parse_qsl(query, keep_blank_values=True)),
                "headers": dict(self.headers.items()),
                "body": body.decode("utf-8", "replace"),
            }
        )
        if emulator.config.latency_ms:
            time.sleep(emulator.config.latency_ms / 1000)
        fault = emulator.take_fault(method, path)
        if fault is not None and fault.kind in ("status", "reset", "html", "raw"):
            self._fault_before(fault)
            return
        status, payload, extra = self._route(method, path, query, body)
        if fault is not None:
            self._fault_after(fault, status, payload, extra)
            return
        self._json(status, payload, extra)

    def _route(
        self, method: str, path: str, query: str, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        emulator = self.emulator
        if path in ("/v3/auth/tokens", "/v3/auth/tokens/"):
            self._allow(method, "POST")
            token, record = emulator.identity.login(self._json_body(body))
            return 201, record, {"X-Subject-Token": token}
        if path.rstrip("/") == "/v3.0/OS-CREDENTIAL/securitytokens":
            self._allow(method, "POST")
            caller = emulator.identity.authenticate(method, path, query, self.headers, body)
            return 201, emulator.identity.temporary_key(caller, self._json_body(body)), {}
        match = SHARING_PATH.match(path)
        if not match:
            raise Rejected(
                404, "APIG.0101", f"The API does not exist or has not been published: {path}"
            )
        caller = emulator.identity.authenticate(method, path, query, self.headers, body)
        if match["project"] != caller:
            raise Rejected(
                403, "APIG.0302", "The project in the URL does not match the credentials."
            )
        params = dict(parse_qsl(query, keep_blank_values=True))
        item = match["id"]
        if item is None:
            self._allow(method, "POST")
            return 200, self._share(caller, body), {}
        if item in ("detail", "count"):
            self._allow(method, "GET")
            return 200, self._list(caller, params, count=item == "count"), {}
        self._allow(method, "GET", "DELETE")
        if method == "GET":
            return 200, {"shared": emulator.store.show(caller, item)}, {}
        if params.get("is_backup_id", "false").lower() == "true":
            emulator.store.cancel_backup(caller, item)
        else:
            emulator.store.cancel(caller, item)
        return 200, None, {}

    # -- endpoints -----------------------------------------------------------------------------
    def _share(self, caller: str, body: bytes) -> dict[str, Any]:
        content_type = self.headers.get("Content-Type", "")
        if not content_type.lower().startswith("application/json"):
            raise Rejected(415, "VolumeBackup.0002", "Content-Type must be application/json.")
        payload = self._json_body(body)
        shared = payload.get("shared") if isinstance(payload, dict) else None
        if not isinstance(shared, dict):
            raise Rejected(400, "VolumeBackup.0003", "Request body must contain 'shared'.")
        backup_id, targets = shared.get("backup_id"), shared.get("to_project_ids")
        if not isinstance(backup_id, str) or normalize_uuid(backup_id) != backup_id:
            raise Rejected(400, "VolumeBackup.0004", f"Invalid backup_id: {backup_id!r}.")
        if not isinstance(targets, list) or not targets:
            raise Rejected(400, "VolumeBackup.0005", "to_project_ids must be a non-empty list.")
        for target in targets:
            if not isinstance(target, str) or normalize_project_id(target) != target:
                raise Rejected(400, "VolumeBackup.0006", f"Invalid project id: {target!r}.")
        if len(set(targets)) != len(targets):
            raise Rejected(400, "VolumeBackup.0005", "to_project_ids contains duplicates.")
        return {"shared": self.emulator.store.share(caller, backup_id, targets)}

    def _list(self, caller: str, params: dict[str, str], *, count: bool) -> dict[str, Any]:
        filters = {key: params[key] for key in LIST_FILTERS if params.get(key)}
        if params.get("avalilability_zone"):  # the reference's spelling, accepted too
            filters.setdefault("availability_zone", params["avalilability_zone"])
        if "status" in filters and filters["status"] not in BACKUP_STATUSES:
            raise Rejected(400, "VolumeBackup.0007", f"Invalid status: {filters['status']!r}.")
        to_me = _flag(params.get("share_to_me"), "share_to_me")
        store = self.emulator.store
        if count:
            return {"count": store.count(caller, filters, to_me=to_me)}
        sort_key = params.get("sort_key") or "created_at"
        if sort_key not in SORT_COLUMNS:
            raise Rejected(400, "VolumeBackup.0008", f"Invalid sort_key: {sort_key!r}.")
        sort_dir = (params.get("sort_dir") or "desc").lower()
        if sort_dir not in ("asc", "desc"):
            raise Rejected(400, "VolumeBackup.0008", f"Invalid sort_dir: {sort_dir!r}.")
        limit = _non_negative(params.get("limit"), "limit")
        cap = self.emulator.config.page_cap
        if cap is not None:
            limit = cap if limit is None else min(limit, cap)
        offset = _non_negative(params.get("offset"), "offset") or 0
        records = store.query(
            caller,
            filters,
            to_me=to_me,
            sort_key=sort_key,
            sort_dir=sort_dir,
            limit=limit,
            offset=offset,
        )
        return {"shared": records}

    # -- admin (for tests and demos; loopback only, even when the emulator serves others) -------
    def _admin(self, method: str, path: str, body: bytes) -> None:
        emulator = self.emulator
        if not is_loopback(str(self.client_address[0])):
            raise Rejected(403, "EMULATOR.0403", "The admin API answers loopback clients only.")
        revealed = self._admin_key_given()
        route = path.rstrip("/")
        if route == "/_emulator/requests" and method == "GET":
            entries = emulator.logged()
            self._json(200, entries if revealed else [redact_entry(e) for e in entries])
        elif route == "/_emulator/requests" and method == "DELETE":
            emulator.clear_log()
            self._json(200, None)
        elif route == "/_emulator/faults" and method == "POST":
            spec = self._json_body(body)
            try:
                emulator.add_fault(Fault(**spec))
            except (TypeError, ValueError) as exc:
                raise Rejected(400, "EMULATOR.0001", f"Invalid fault: {exc}") from None
            self._json(200, {"faults": [asdict(f) for f in emulator.faults]})
        elif route == "/_emulator/faults" and method == "DELETE":
            emulator.clear_faults()
            self._json(200, None)
        elif route == "/_emulator/seed" and method == "POST":
            spec = self._json_body(body)
            count = spec.get("shares") if isinstance(spec, dict) else None
            if not isinstance(count, int) or not 0 <= count <= 1_000_000:
                raise Rejected(400, "EMULATOR.0002", "Give {'shares': N} with 0 <= N <= 1000000.")
            self._json(200, {"created": emulator.seed_shares(count)})
        elif route == "/_emulator/backups" and method == "GET":
            self._json(200, {"backups": emulator.store.backups(emulator.config.project_id)})
        else:
            raise Rejected(404, "EMULATOR.0404", f"No admin route {method} {path}.")

    def _admin_key_given(self) -> bool:
        """Whether the request carries the admin key; a wrong one (or one the emulator was not
        started with) is refused rather than quietly ignored, so a caller learns why."""
        given = self.headers.get(ADMIN_KEY_HEADER)
        if given is None:
            return False
        configured = self.emulator.config.admin_key
        if not configured:
            raise Rejected(
                403, "EMULATOR.0403", "No admin key was configured: start with --admin-key."
            )
        if not admin_key_matches(given, configured):
            raise Rejected(403, "EMULATOR.0403", f"Wrong {ADMIN_KEY_HEADER}.")
        return True

    # -- faults --------------------------------------------------------------------------------
    def _fault_before(self, fault: Fault) -> None:
        if fault.kind == "reset":
            self._reset()
        elif fault.kind == "html":
            page = b"<html><head><title>Portal login</title></head><body>Sign in</body></html>"
            self._send(200, page, "text/html", {})
        elif fault.kind == "raw":
            # surrogateescape lets a test send bytes that are not UTF-8 ("\udcff" is 0xff)
            data = fault.body.encode("utf-8", "surrogateescape")
            self._send(fault.status, data, fault.content_type, {})
        else:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._error(fault.status, _fault_code(fault.status), "Injected fault.", extra)

    def _fault_after(self, fault: Fault, status: int, payload: Any, extra: dict[str, str]) -> None:
        if fault.kind == "delay":
            time.sleep(fault.seconds)
            self._json(status, payload, extra)
        elif fault.kind == "commit_then_502":
            self._error(502, "APIG.0502", "Bad gateway: the backend did not answer in time.")
        elif fault.kind == "truncated":
            data = json.dumps(payload).encode("utf-8")
            half = data[: max(1, len(data) // 2)]
            self._send(status, half, "application/json", extra)

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout turns close() into a TCP reset: no answer at all.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self._answered = True

    # -- answering -----------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise Rejected(
                411, "APIG.0201", "Chunked bodies are not accepted; send Content-Length."
            )
        if length_header is None:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            self.close_connection = True
            raise Rejected(400, "APIG.0201", "Invalid Content-Length.") from None
        if length < 0:
            self.close_connection = True
            raise Rejected(400, "APIG.0201", "Invalid Content-Length.")
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise Rejected(413, "APIG.0201", "Request body too large (limit 12 MB).")
        return self.rfile.read(length) if length else b""

    def _json_body(self, body: bytes) -> Any:
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Rejected(400, "VolumeBackup.0003", "Request body is not valid JSON.") from None

    def _allow(self, method: str, *allowed: str) -> None:
        if method not in allowed:
            raise Rejected(405, "APIG.0202", f"Method {method} is not allowed here.")

    def _error(
        self, status: int, code: str, message: str, extra: dict[str, str] | None = None
    ) -> None:
        style = self.emulator.config.error_style
        if code.startswith(("APIG.", "IAM.", "EMULATOR.")) or style == "apig":
            body: dict[str, Any] = {
                "error_code": code,
                "error_msg": message,
                "request_id": self.request_id,
            }
        elif style == "cinder":
            body = {CINDER_FAULTS.get(status, "computeFault"): {"code": status, "message": message}}
        else:
            body = {"error": {"code": code, "message": message}}
        self._json(status, body, extra or {})

    def _json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self._send(status, data, "application/json", extra or {})

    def _send(self, status: int, data: bytes, content_type: str, extra: dict[str, str]) -> None:
        if self._answered:
            return
        self._answered = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("X-Request-Id", self.request_id)
        for name, value in extra.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        if self.command == "HEAD":
            data = b""
        self.send_header("Content-Length", str(len(data) if status != 204 else 0))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own errors (bad request line, header too long) in the gateway's shape.
        self.request_id = getattr(self, "request_id", uuid.uuid4().hex)
        self._answered = False
        self.close_connection = True
        if not hasattr(self, "emulator"):
            super().send_error(code, message, explain)
            return
        self._error(code, "APIG.0201", message or "Bad request.")

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header follows the emulator's (possibly skewed) clock, for doctor's check.
        skew = self.emulator.config.clock_skew_seconds
        return super().date_time_string((timestamp or time.time()) + skew)


def _flag(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Rejected(400, "VolumeBackup.0009", f"Invalid {name}: {value!r}.")


def _non_negative(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise Rejected(400, "VolumeBackup.0009", f"Invalid {name}: {value!r}.")
    return int(value)


def _fault_code(status: int) -> str:
    return "APIG.0308" if status == 429 else f"VolumeBackup.{status:04d}"


# -- running ---------------------------------------------------------------------------------------
class EmulatorServer(ThreadingHTTPServer):
    """The emulator's HTTP server; shutdown() ends serve_forever() at once instead of polling.

    socketserver's loop looks at its shutdown flag only between waits of `poll_interval`, so every
    stop costs up to that long. This loop also waits on one end of a socket pair that shutdown()
    writes to: the wait ends the moment a stop is asked for. `poll_interval` still bounds each wait,
    for signals: one the kernel delivers to a handler thread interrupts no wait here, and Python
    runs its handler (SIGTERM's stop, in `backupshare emulator`) in this thread only between waits.
    """

    daemon_threads = True
    scheme = "http"
    # Many concurrent clients (batch cancels) must not be refused at the listen queue.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], handler: Callable[..., BaseHTTPRequestHandler]
    ) -> None:
        # Before binding: a bind that fails calls server_close(), which closes the pair too.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._stop_asked = threading.Event()
        self._loop_ended = threading.Event()
        super().__init__(address, handler)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serves until shutdown(), which it notices at once; signals within `poll_interval`."""
        self._loop_ended.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                while not self._stop_asked.is_set():
                    ready = {key.fileobj for key, _ in selector.select(poll_interval)}
                    if self._wake_reader in ready:  # shutdown()'s byte: the flag says the rest
                        self._wake_reader.recv(64)
                        continue
                    if self in ready:  # a connection waits: handle_request() takes it at once
                        self.handle_request()
                    self.service_actions()
        finally:
            self._stop_asked.clear()
            self._loop_ended.set()

    def shutdown(self) -> None:
        """Stops serve_forever() (running in another thread) and returns once it has ended."""
        self._stop_asked.set()
        with contextlib.suppress(OSError):  # closed already: the loop is not waiting
            self._wake_writer.send(b"\0")
        self._loop_ended.wait()

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (Ctrl-C twice, a deadline) is normal life, not a traceback."""
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


@dataclass
class RunningEmulator:
    """A started emulator: its URL, its state, and how to stop it."""

    emulator: Emulator
    server: EmulatorServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        return f"{self.server.scheme}://{shown}:{port}"

    @property
    def project_id(self) -> str:
        return self.emulator.config.project_id

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        self.emulator.store.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_server(
    config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0
) -> tuple[Emulator, EmulatorServer]:
    emulator = Emulator(config)
    handler: Callable[..., Handler] = type("BoundHandler", (Handler,), {"emulator": emulator})
    server = EmulatorServer((host, port), handler)
    if config.tls_cert:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(config.tls_cert, config.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.scheme = "https"
    return emulator, server


def start(
    config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningEmulator:
    """Starts an emulator in a background thread (port 0: a free port) and returns it."""
    emulator, server = make_server(config or EmulatorConfig(), host, port)
    thread = threading.Thread(target=server.serve_forever, name="emulator", daemon=True)
    thread.start()
    return RunningEmulator(emulator, server, thread)
