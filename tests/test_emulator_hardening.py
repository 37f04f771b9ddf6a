"""The emulator hardened as a server: a web page cannot drive its admin API, hosts that are not
ours are refused, admin seeds are capped; a half-sent request is dropped, connections past the
cap get 503, an oversized body is refused unread, an idle keep-alive does not delay a stop."""

from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from typing import Any

import pytest
import requests

from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.emulator.server import ADMIN_SEED_MAX, DEFAULT_TOKEN, SERVICE_BODY_BYTES

from .helpers import BACKUP, GUARD, OWN, ROOT

SHARES_PATH = f"/v2/{OWN}/os-vendor-backup-sharing"


def raw_exchange(running: RunningEmulator, request: bytes) -> bytes:
    """One request as bytes on a fresh connection; everything the emulator answers."""
    with socket.create_connection(running.server.server_address[:2], timeout=GUARD) as sock:
        sock.sendall(request)
        return read_answer(sock)


def read_answer(sock: socket.socket) -> bytes:
    """One whole answer (head and Content-Length body), or what came before the close."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def http(
    method: str, path: str, *, host: str = "127.0.0.1", body: bytes = b"", headers: str = ""
) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


FAULT = json.dumps({"kind": "status", "status": 503, "count": 1000}).encode()


@pytest.mark.parametrize(
    "headers",
    [
        "Origin: http://evil.example\r\nContent-Type: application/json\r\n",
        "Origin: null\r\nContent-Type: application/json\r\n",
        "Sec-Fetch-Site: cross-site\r\nContent-Type: application/json\r\n",
        "Sec-Fetch-Site: same-site\r\nContent-Type: application/json\r\n",
        "Content-Type: text/plain\r\n",  # a form a page may post without asking first
        "",
    ],
    ids=["origin", "null-origin", "cross-site", "same-site", "text-plain", "no-type"],
)
def test_the_admin_api_refuses_what_a_web_page_can_send(
    emulator: RunningEmulator, headers: str
) -> None:
    answer = raw_exchange(emulator, http("POST", "/_emulator/faults", body=FAULT, headers=headers))
    assert status_of(answer) in (403, 415), answer
    assert b"Cross-site requests are refused" in answer or b"application/json" in answer
    assert emulator.faults == []


def test_a_same_origin_json_admin_write_is_accepted(emulator: RunningEmulator) -> None:
    host = f"127.0.0.1:{emulator.server.server_address[1]}"
    headers = f"Origin: http://{host}\r\nSec-Fetch-Site: same-origin\r\nContent-Type: application/json\r\n"
    answer = raw_exchange(
        emulator, http("POST", "/_emulator/faults", host=host, body=FAULT, headers=headers)
    )
    assert status_of(answer) == 200, answer
    assert len(emulator.faults) == 1


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:80", "10.0.0.1", "127.0.0.1.evil.example"]
)
@pytest.mark.parametrize("path", ["/_emulator/requests", f"{SHARES_PATH}/detail"])
def test_a_host_that_is_not_ours_is_refused(
    emulator: RunningEmulator, host: str, path: str
) -> None:
    headers = f"X-Auth-Token: {DEFAULT_TOKEN}\r\n"
    answer = raw_exchange(emulator, http("GET", path, host=host, headers=headers))
    assert status_of(answer) == 403, answer
    assert b"Host not served" in answer


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "LOCALHOST:1", "[::1]:8", "127.0.0.2", "app.localhost"]
)
def test_loopback_hosts_are_served(emulator: RunningEmulator, host: str) -> None:
    answer = raw_exchange(emulator, http("GET", "/_emulator/backups", host=host))
    assert status_of(answer) == 200, answer


def test_allow_remote_serves_any_host(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.server, "allow_remote", True)
    answer = raw_exchange(emulator, http("GET", "/_emulator/backups", host="emulator.lan:8080"))
    assert status_of(answer) == 200, answer


def test_the_bound_host_name_is_served() -> None:
    with start(EmulatorConfig(), host="localhost") as running:
        assert running.server.serves_host("localhost:1234")
    running.server.bound_host = "devbox.lan"
    assert running.server.serves_host("devbox.lan:8080")
    assert not running.server.serves_host("other.lan:8080")


def test_the_emulator_main_passes_allow_remote_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from backupshare.emulator import __main__ as main

    made: list[Any] = []
    emulators: list[Any] = []
    real = main.make_server

    def spy(*args: Any, **kwargs: Any) -> Any:
        emulator, server = real(*args, **kwargs)
        made.append(server)
        emulators.append(emulator)
        monkeypatch.setattr(server, "serve_forever", lambda: None)
        return emulator, server

    monkeypatch.setattr(main, "make_server", spy)
    monkeypatch.setattr(main.signal, "signal", lambda *args: None)  # pytest keeps its SIGTERM
    try:
        assert main.main(["--port", "0", "--allow-remote"]) == 0
        assert made[0].allow_remote is True
    finally:  # serve_forever never ran, so nothing stopped the server or closed its store
        for server in made:
            server.server_close()
        for emulator in emulators:
            emulator.store.close()


@pytest.mark.parametrize(
    "spec",
    [
        {"shares": ADMIN_SEED_MAX + 1},
        {"shares": ADMIN_SEED_MAX, "backups": [{}]},
        {"shares": ADMIN_SEED_MAX, "backup_count": 1},
        {"backup_count": ADMIN_SEED_MAX - 1, "vaults": [{}, {}]},
    ],
    ids=["shares", "shares-and-backups", "shares-and-generated", "generated-and-vaults"],
)
def test_admin_seeds_are_capped(emulator: RunningEmulator, spec: dict[str, Any]) -> None:
    answer = requests.post(f"{emulator.url}/_emulator/seed", json=spec, timeout=GUARD)
    assert answer.status_code == 400, answer.text
    assert str(ADMIN_SEED_MAX) in answer.json()["error_msg"]
    assert emulator.store.count(OWN, {}) == 0


def test_the_clients_of_the_admin_api_send_json() -> None:
    """requests' `json=` sets the content type the admin API now needs; every caller uses it."""
    sources = [*ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py")]
    calls = [
        (path.name, call)
        for path in sources
        for call in re.findall(r"requests\.post\(([^()]*(?:\([^()]*\)[^()]*)*)\)", path.read_text())
        if "/_emulator/" in call
    ]
    assert len(calls) >= 5
    assert [(name, call) for name, call in calls if "json=" not in call] == []


# -- connection timeout, cap and body limit --------------------------------------------------------
def test_a_half_sent_request_is_dropped_after_the_connection_timeout(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.server.RequestHandlerClass, "timeout", 0.2)
    with socket.create_connection(emulator.server.server_address[:2], timeout=GUARD) as sock:
        sock.sendall(b"GET /_emulator/backups HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends
        assert sock.recv(1024) == b""  # the emulator hung up; before the fix it waited for ever


def test_connections_past_the_cap_get_503(
    emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.server, "max_connections", 2)
    held = []
    try:
        for _ in range(2):  # two kept-alive connections, answered once each: both in use
            sock = socket.create_connection(emulator.server.server_address[:2], timeout=GUARD)
            held.append(sock)
            sock.sendall(b"GET /_emulator/backups HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert status_of(read_answer(sock)) == 200
        answer = raw_exchange(emulator, http("GET", "/_emulator/backups"))
        assert status_of(answer) == 503, answer
    finally:
        for sock in held:
            sock.close()


def test_a_service_body_larger_than_the_api_needs_is_refused_unread(
    emulator: RunningEmulator,
) -> None:
    body = json.dumps(
        {"shared": {"backup_id": BACKUP, "to_project_ids": ["x" * 32] * 1000}}
    ).encode()
    headers = f"X-Auth-Token: {DEFAULT_TOKEN}\r\nContent-Type: application/json\r\n"
    answer = raw_exchange(emulator, http("POST", SHARES_PATH, body=body, headers=headers))
    assert status_of(answer) == 413, answer
    assert f"limit {SERVICE_BODY_BYTES} bytes".encode() in answer
    seeds = [
        {"id": str(uuid.uuid4()), "name": "b" * 100} for _ in range(300)
    ]  # the admin API's larger bodies still go
    assert requests.post(
        f"{emulator.url}/_emulator/seed", json={"backups": seeds}, timeout=GUARD
    ).ok


def test_an_idle_keep_alive_connection_does_not_delay_a_stop() -> None:
    running = start(EmulatorConfig())
    sock = socket.create_connection(running.server.server_address[:2], timeout=GUARD)
    with sock:
        sock.sendall(b"GET /_emulator/backups HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status_of(read_answer(sock)) == 200  # kept alive, now idle
        stopper = threading.Thread(target=running.stop)
        stopper.start()
        stopper.join(GUARD)
        assert not stopper.is_alive()
        assert sock.recv(1024) == b""  # the idle connection was closed by the stop
