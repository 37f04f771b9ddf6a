"""The emulator's HTTP side: reading requests, dispatching them to the route modules, error
body shapes, faults, the request log and the admin API.

A strict stand-in for the real services: the route modules (iam.py, vbs.py, cbr.py) enforce
the rules of docs/emulator.md; this module answers errors in the gateway's, VBS's, Cinder's or
CBR's body shape, and can be told to misbehave (faults) so that the client's retry and recovery
paths can be tested deterministically. It never crashes on bad input: every request gets an
answer (or, when a fault says so, a dropped connection).
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from . import cbr, iam, vbs
from .core import (
    DEFAULT_AKSK,
    DEFAULT_PROJECT,
    DEFAULT_TOKEN,
    DEFAULT_USER,
    FAULT_KINDS,
    OTHER_PROJECT,
    PARTNER_CREDENTIALS,
    Emulator,
    EmulatorConfig,
    Fault,
    ProjectCredential,
)
from .routing import Call, Rejected
from .safety import ADMIN_KEY_HEADER, admin_key_matches, is_loopback, redact_entry
from .schema import BackupSeed
from .seeding import auto_answer_from_spec, backup_from_spec, seed_extras
from .vbs import BACKUP_STATUSES

__all__ = [
    "BACKUP_STATUSES",
    "DEFAULT_AKSK",
    "DEFAULT_PROJECT",
    "DEFAULT_TOKEN",
    "DEFAULT_USER",
    "FAULT_KINDS",
    "OTHER_PROJECT",
    "PARTNER_CREDENTIALS",
    "BackupSeed",
    "Emulator",
    "EmulatorConfig",
    "Fault",
    "Handler",
    "ProjectCredential",
    "RunningEmulator",
    "make_server",
    "start",
]

MAX_BODY_BYTES = 12 * 1024 * 1024  # the gateway's limit: the admin API's (a seed of backups)
# The service routes' bodies are small (a share to 10 projects is under 1 kB): a larger one is
# refused before it is read, so 20 clients sending 12 MB cannot make 240 MB.
SERVICE_BODY_BYTES = 16 * 1024
MAX_URI_BYTES = 32 * 1024
# A client that sends half a request (or sits idle on a keep-alive connection) is dropped after
# this many seconds of silence, and at most this many connections are served at once: a
# connection past the cap is answered 503 and closed, never given a thread.
CONNECTION_TIMEOUT = 30.0
MAX_CONNECTIONS = 256
# What the admin API may seed in one request (the benchmarks need 100,000); the command line's
# seed options are the operator's own and not capped.
ADMIN_SEED_MAX = 200_000
ROUTES = (iam.route, vbs.route, cbr.route)

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
    timeout = CONNECTION_TIMEOUT  # every read and write on the connection (StreamRequestHandler)
    server: EmulatorServer

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
        self.route_path = ""
        try:
            self._dispatch(method)
        except Rejected as exc:
            self._error(exc.status, exc.code, exc.message)
        except Exception as exc:  # the emulator answers 500 rather than dying on a bug
            code = _service(self.route_path).internal_error_code()
            self._error(500, code, f"Internal error: {exc.__class__.__name__}")

    def _dispatch(self, method: str) -> None:
        if len(self.path) > MAX_URI_BYTES:
            raise Rejected(414, "APIG.0201", "Request URI too large.")
        parts = urlsplit(self.path)
        path, query = parts.path, parts.query
        self.route_path = path
        self._refuse_other_sites()
        admin = path.startswith("/_emulator/")
        body = self._read_body(MAX_BODY_BYTES if admin else self._service_body_bytes())
        emulator = self.emulator
        if admin:
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
        self._send_json(status, payload, extra)

    def _route(
        self, method: str, path: str, query: str, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        emulator = self.emulator

        def authenticate() -> str:
            return emulator.identity.authenticate(method, path, query, self.headers, body)

        call = Call(method, path, query, self.headers, body, self._base_url(), authenticate)
        for route in ROUTES:
            answer = route(emulator, call)
            if answer is not None:
                return answer.status, answer.payload, answer.headers
        raise Rejected(
            404, "APIG.0101", f"The API does not exist or has not been published: {path}"
        )

    # -- who may drive the emulator --------------------------------------------------------------
    def _refuse_other_sites(self) -> None:
        """A web page the developer opens must not drive the emulator: a browser names the page
        in Origin (and Sec-Fetch-Site); DNS rebinding shows as a Host that is not ours. Our
        clients (the CLI, requests, curl) send neither header and a loopback Host."""
        self.close_connection = True  # until checked: a refused request's body is never read
        host = self.headers.get("Host")
        if host is not None and not self.server.serves_host(host):
            raise Rejected(
                403, "EMULATOR.0403", "Host not served: use a loopback address or localhost."
            )
        site = self.headers.get("Sec-Fetch-Site")
        if site is not None and site.strip().lower() not in ("same-origin", "none"):
            raise Rejected(403, "EMULATOR.0403", "Cross-site requests are refused.")
        origin = self.headers.get("Origin")
        if origin is not None and origin.strip().lower() != self._base_url().lower():
            raise Rejected(403, "EMULATOR.0403", "Cross-site requests are refused.")
        self.close_connection = False

    def _service_body_bytes(self) -> int:
        """Sized to the API: the largest share names max_targets projects (~40 bytes each)."""
        return max(SERVICE_BODY_BYTES, 64 * self.emulator.config.max_targets)

    def _base_url(self) -> str:
        """The scheme and authority the caller used, for links in answers."""
        scheme = getattr(self.server, "scheme", "http")
        host = self.headers.get("Host")
        if not host:
            address = cast(tuple[Any, ...], self.server.server_address)
            host = f"{address[0]!s}:{address[1]}"
        return f"{scheme}://{host}"

    # -- admin (for tests and demos; loopback only, even when the emulator serves others) -------
    def _admin(self, method: str, path: str, body: bytes) -> None:
        emulator = self.emulator
        if not is_loopback(str(self.client_address[0])):
            raise Rejected(403, "EMULATOR.0403", "The admin API answers loopback clients only.")
        revealed = self._admin_key_given()
        route = path.rstrip("/")
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if method == "POST" and content_type != "application/json":
            # A page may POST text/plain cross-site without asking first; JSON it may not.
            raise Rejected(
                415, "EMULATOR.0415", "Admin writes need Content-Type: application/json."
            )
        if route == "/_emulator/requests" and method == "GET":
            entries = emulator.logged()
            self._send_json(200, entries if revealed else [redact_entry(e) for e in entries])
        elif route == "/_emulator/requests" and method == "DELETE":
            emulator.clear_log()
            self._send_json(200, None)
        elif route == "/_emulator/faults" and method == "POST":
            spec = self._json_body(body)
            try:
                emulator.add_fault(Fault(**spec))
            except (TypeError, ValueError) as exc:
                raise Rejected(400, "EMULATOR.0001", f"Invalid fault: {exc}") from None
            self._send_json(200, {"faults": [asdict(f) for f in emulator.faults]})
        elif route == "/_emulator/faults" and method == "DELETE":
            emulator.clear_faults()
            self._send_json(200, None)
        elif route == "/_emulator/seed" and method == "POST":
            self._send_json(200, self._seed(self._json_body(body)))
        elif route == "/_emulator/auto-answer" and method == "POST":
            self._send_json(200, self._auto_answer(self._json_body(body)))
        elif route == "/_emulator/auto-answer" and method == "DELETE":
            emulator.store.clear_auto_answers()
            self._send_json(200, None)
        elif route == "/_emulator/backups" and method == "GET":
            self._send_json(200, {"backups": emulator.store.backups(emulator.config.project_id)})
        else:
            raise Rejected(404, "EMULATOR.0404", f"No admin route {method} {path}.")

    def _seed(self, spec: Any) -> dict[str, Any]:
        """`{"shares": N}` makes N sharings; `{"backups": [BACKUP, ...]}` adds backups,
        `{"vaults": [VAULT, ...]}` vaults (see seeding.py for their keys), `{"backup_count": N,
        "random_seed": S}` generates backups. Any of them; all checked before anything is made."""
        emulator = self.emulator
        known = {"shares", "backups", "vaults", "backup_count", "random_seed"}
        if not isinstance(spec, dict) or not spec or set(spec) - known:
            raise Rejected(
                400,
                "EMULATOR.0002",
                "Give {'shares': N}, {'backups': [...]}, {'vaults': [...]} and/or "
                "{'backup_count': N, 'random_seed': S}.",
            )
        try:
            vaults, generated, random_seed = seed_extras(spec, emulator.config.project_id)
        except ValueError as exc:
            raise Rejected(400, "EMULATOR.0002", str(exc)) from None
        count = spec.get("shares", 0)
        cap = ADMIN_SEED_MAX
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= cap:
            raise Rejected(400, "EMULATOR.0002", f"Give {{'shares': N}} with 0 <= N <= {cap}.")
        specs = spec.get("backups", [])
        if not isinstance(specs, list):
            raise Rejected(400, "EMULATOR.0002", "'backups' must be a list.")
        if count + len(specs) + generated + len(vaults) > cap:
            raise Rejected(
                400,
                "EMULATOR.0002",
                f"At most {cap} records per seed (shares, backups, generated backups, vaults).",
            )
        try:
            seeds = [
                backup_from_spec(item, emulator.config.project_id, f"seeded-{i + 1}")
                for i, item in enumerate(specs)
            ]
        except ValueError as exc:
            raise Rejected(400, "EMULATOR.0002", f"Invalid backup: {exc}") from None
        for vault in vaults:
            emulator.store.add_vault(vault)
        for seed in seeds:
            emulator.store.add_backup(seed)
        answer: dict[str, Any] = {}
        if "vaults" in spec:
            answer["vaults"] = [vault.id for vault in vaults]
        if "backup_count" in spec:
            answer["generated"] = emulator.generate_backups(generated, random_seed)
        if "shares" in spec:
            answer["created"] = emulator.seed_shares(count)
        if "backups" in spec:
            answer["backups"] = [seed.id for seed in seeds]
        return answer

    def _auto_answer(self, spec: Any) -> dict[str, Any]:
        """`{"status": "accepted"|"rejected", "after": SECONDS, "project": ID}`: from now on,
        offers to that project (or every one) are answered on its behalf after that long."""
        try:
            project, answer = auto_answer_from_spec(spec)
        except ValueError as exc:
            raise Rejected(400, "EMULATOR.0002", f"Invalid auto-answer: {exc}") from None
        self.emulator.store.set_auto_answer(project, answer)
        return {"project": project, "status": answer.status, "after": answer.after_seconds}

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
            code = _service(self.route_path).fault_code(fault.status)
            self._error(fault.status, code, "Injected fault.", extra)

    def _fault_after(self, fault: Fault, status: int, payload: Any, extra: dict[str, str]) -> None:
        if fault.kind == "delay":
            time.sleep(fault.seconds)
            self._send_json(status, payload, extra)
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
    def _read_body(self, limit: int) -> bytes:
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
        if length > limit:
            self.close_connection = True
            raise Rejected(413, "APIG.0201", f"Request body too large (limit {limit} bytes).")
        return self.rfile.read(length) if length else b""

    def _json_body(self, body: bytes) -> Any:
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Rejected(400, "EMULATOR.0001", "Request body is not valid JSON.") from None

    def _error(
        self, status: int, code: str, message: str, extra: dict[str, str] | None = None
    ) -> None:
        style = self.emulator.config.error_style
        if code.startswith("BackupService."):  # CBR's one shape, whatever the VBS style
            self._send_json(status, {"error_code": code, "error_msg": message}, extra or {})
            return
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
        self._send_json(status, body, extra or {})

    def _send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
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


def _service(path: str) -> Any:
    """The route module whose words an error on `path` is in (CBR's, else VBS's)."""
    return cbr if cbr.owns(path) else vbs


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
    max_connections = MAX_CONNECTIONS
    allow_remote = False  # any Host header (`backupshare emulator --allow-remote`)

    def __init__(
        self, address: tuple[str, int], handler: Callable[..., BaseHTTPRequestHandler]
    ) -> None:
        # Before binding: a bind that fails calls server_close(), which closes the pair too.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._stop_asked = threading.Event()
        self._loop_ended = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)
        self.bound_host = address[0].strip("[]").lower()

    def serves_host(self, header: str) -> bool:
        """Whether a Host header names this server: a loopback address, localhost, the host
        it was bound to, or anything with allow_remote."""
        if self.allow_remote:
            return True
        name = header.strip().lower()
        if name.startswith("["):  # [::1]:8080
            name = name[1 : name.find("]")] if "]" in name else name
        elif name.count(":") == 1:
            name = name.rsplit(":", 1)[0]
        name = name.rstrip(".")
        return (
            is_loopback(name)
            or name == "localhost"
            or name.endswith(".localhost")
            or (bool(name) and name == self.bound_host)
        )

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread per connection, up to max_connections; past that, 503 and closed."""
        with self._connections_lock:
            full = len(self._connections) >= self.max_connections
            if not full:
                self._connections.add(request)
        if full:
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    b"Retry-After: 1\r\nConnection: close\r\n\r\n"
                )
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def close_connections(self) -> None:
        """Ends every open connection (an idle keep-alive one too): a stop never waits on them."""
        with self._connections_lock:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

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
        self.close_connections()
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
