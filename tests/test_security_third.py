"""Issue 25, security third pass: each finding reproduced over loopback, and the defence shown.

Like tests/test_security.py (whose hostile server this reuses): only loopback addresses, real
HTTP, exit codes and messages checked. Nothing asserts a duration: where linear time is the
point, the bound is orders of magnitude above the linear time and below the quadratic one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from backupshare import config, output, resolution
from backupshare.config import mask_url
from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.emulator.server import ADMIN_SEED_MAX, DEFAULT_TOKEN, SERVICE_BODY_BYTES
from backupshare.errors import ConfigError, UnexpectedResponse
from backupshare.models import Backup, Share
from backupshare.output import escaping

from . import test_security as first
from .helpers import BACKUP, BIN, OWN, ROOT, CliResult
from .test_security import Handler, Hostile, Seen, endpoint_env, record, send

bs = first.bs  # the fixtures of the earlier passes: the CLI in-process, a hostile server
hostile = first.hostile

LONG = 200_000  # characters: quadratic masking took minutes on this, linear takes milliseconds
FAR_ABOVE_LINEAR = 30.0  # seconds: a hang bound only, never an expectation


# == 1. one long server string cannot hang the CLI ==================================================
@pytest.mark.parametrize(
    "text",
    ["A" * LONG, "a://" * (LONG // 4), "https://" + "u" * LONG + "@host", "x1+.-" * (LONG // 5)],
    ids=["letters", "schemes", "long-userinfo", "scheme-chars"],
)
def test_masking_a_long_string_takes_linear_time(text: str) -> None:
    started = time.monotonic()
    masked = mask_url(text)
    assert time.monotonic() - started < FAR_ABOVE_LINEAR
    assert len(masked) <= len(text)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("see https://user:p@ss/w@proxy:8080/x", "see https://***@proxy:8080/x"),
        ("a ftp://a:b@c and HTTPS://x:y@z", "a ftp://***@c and HTTPS://***@z"),
        ("A" * 100 + "://u:pw@h", "A" * 100 + "://***@h"),
        ("no url at all: user:pw@host", "no url at all: user:pw@host"),
        ("http://host/path then mail a@b", "http://host/path then mail a@b"),
    ],
)
def test_masking_still_hides_user_info(text: str, masked: str) -> None:
    assert mask_url(text) == masked


class Spy:
    """The masking pattern, recording the length of every text it is tried on."""

    def __init__(self, pattern: Any) -> None:
        self.pattern = pattern
        self.lengths: list[int] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.pattern, name)

        def spied(text: str, *args: Any) -> Any:
            self.lengths.append(len(text))
            return method(text, *args)

        return spied


def long_service(h: Handler, seen: Seen) -> None:
    url = "https://user:" + "p" * 300 + "@evil.example/"
    name = ("B" * LONG) + url
    if seen.path.endswith("/count"):
        send(h, 200, {"count": 1})
    elif seen.path.endswith("/detail"):
        shares = [record(BACKUP, name=name, description=url * 3)]
        send(h, 200, {"shared": shares if seen.query.get("offset") == "0" else []})
    else:
        send(h, 400, {"error_code": "VBS.0001", "error_msg": "E" * LONG + url})


@pytest.mark.parametrize(
    "argv",
    [
        ("list-shares",),
        ("list-shares", "-o", "csv"),
        ("show", BACKUP),
        ("show", BACKUP, "-o", "json"),
        ("cancel", "00000000-0000-4000-8000-000000000000", "-o", "json"),
        ("cancel", "00000000-0000-4000-8000-000000000000", "--debug"),
    ],
    ids=["table", "csv", "show", "show-json-error", "error-json", "error-debug"],
)
def test_a_long_server_string_is_shown_bounded_and_masked(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    spy = Spy(config.URL_PASSWORD_RE)
    monkeypatch.setattr(config, "URL_PASSWORD_RE", spy)
    server = hostile(long_service)
    started = time.monotonic()
    result = bs(*argv, env=endpoint_env(server.url))
    assert time.monotonic() - started < FAR_ABOVE_LINEAR
    assert result.code in (0, 6), result.err
    assert "p" * 300 not in result.err
    assert spy.lengths and max(spy.lengths) <= config.URL_WINDOW_MAX  # the structural bound
    if result.code == 6:  # the message is cut, never the status and request ids after it
        assert "characters in all] (HTTP 400, VBS.0001, client request id" in result.err
        assert len(result.err) < 5 * escaping.SHOWN_MAX  # the headline, the JSON error, no more
    elif "csv" in argv:  # CSV keeps the value whole (masked)
        assert "B" * LONG in result.out and "p" * 300 not in result.out
    else:
        assert (
            "B" * escaping.SHOWN_MAX in result.out
            and "B" * (escaping.SHOWN_MAX + 1) not in result.out
        )
        assert "characters in all]" in result.out


# == 2. listings bounded in bytes, and collect-then-print formats in records =======================
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


def many(
    pages: int, *, filler: int = 0, count: int | None = None
) -> Callable[[Handler, Seen], None]:
    """`pages` full pages of fresh backups or sharings (each with `filler` characters of
    description), then an empty page; a count that says `count` (default: the truth)."""
    served = {"pages": 0}

    def respond(h: Handler, seen: Seen) -> None:
        limit = int(seen.query.get("limit", "100"))
        if seen.path.endswith("/count"):
            send(h, 200, {"count": pages * limit if count is None else count})
            return
        served["pages"] += 1
        more = served["pages"] <= pages
        if "/backups" in seen.path:
            send(
                h,
                200,
                {"backups": [backup_record("d" * filler) for _ in range(limit)] if more else []},
            )
        else:
            items = [record(to=uuid.uuid4().hex, description="d" * filler) for _ in range(limit)]
            send(h, 200, {"shared": items if more else []})

    return respond


@pytest.mark.parametrize(
    "argv",
    [("backups", "-o", "jsonl"), ("backups", "-o", "ids"), ("list-shares", "-o", "csv")],
    ids=["backups-without-count", "backups-ids", "shares-trusting-a-count"],
)
def test_a_listing_is_bounded_in_bytes(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    from backupshare import paging

    monkeypatch.setattr(paging, "LISTING_MAX_BYTES", 1024 * 1024)
    # 100 records of 3 kB a page: the bound is passed on the fourth page, long before the 50th;
    # the sharings' count claims a million, as a hostile server's would.
    server = hostile(many(50, filler=3000, count=1_000_000))
    result = bs(*argv, env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert result.err.startswith("error: unexpected response: the listing exceeds 1 MiB ("), (
        result.err
    )
    assert "hint: " in result.err
    assert len([s for s in server.requests("GET") if "/detail" in s.path]) <= 5
    assert 0 < result.out.count("\n") <= 400  # what streamed before the bound stays written


def test_cbr_offers_are_one_listing_for_the_byte_bound(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--shared-with-me` on CBR lists each member status in turn: the bound spans them all."""
    from backupshare import paging

    monkeypatch.setattr(paging, "LISTING_MAX_BYTES", 1024 * 1024)
    served: dict[str, int] = {}

    def respond(h: Handler, seen: Seen) -> None:
        status = seen.query.get("member_status", "")
        if seen.query.get("limit") == "1":
            send(h, 200, {"count": 1_000_000, "backups": []})
            return
        served[status] = served.get(status, 0) + 1
        more = served[status] <= 3  # 3 pages of ~300 kB a status: under 1 MiB each, not in all
        offer = {**cbr_backup(), "project_id": first.P2, "description": "d" * 3000}
        items = [{**offer, "id": str(uuid.uuid4())} for _ in range(100)] if more else []
        send(h, 200, {"backups": items})

    server = hostile(respond)
    env = {**endpoint_env(server.url), "BACKUPSHARE_SERVICE": "cbr"}
    result = bs("list-shares", "--shared-with-me", "-o", "jsonl", env=env)
    assert result.code == 8, result.err
    assert "the listing exceeds 1 MiB" in result.err
    assert set(served) == {"pending", "accepted"}  # stopped inside the second status


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
@pytest.mark.parametrize("command", ["backups", "list-shares"])
def test_collecting_formats_stop_past_the_record_bound(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    command: str,
) -> None:
    monkeypatch.setattr(output, "COLLECTED_MAX", 250)
    server = hostile(many(10))
    result = bs(command, "-o", fmt, env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert result.err.startswith(
        f"error: the listing has more than 250 records, too many to hold for -o {fmt}"
    ), result.err
    assert "hint: use -o jsonl, csv or ids, which stream" in result.err
    assert result.out == ""
    assert (
        len([s for s in server.requests("GET") if "/detail" in s.path]) == 3
    )  # counted while listing


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "ids"])
def test_streaming_formats_are_not_held_to_the_record_bound(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    monkeypatch.setattr(output, "COLLECTED_MAX", 250)
    server = hostile(many(4))
    result = bs("backups", "-o", fmt, env=endpoint_env(server.url))
    assert result.code == 0, result.err
    assert result.out.count("\n") == 400 + (fmt == "csv")


# == 3. an emulator a web page cannot drive =========================================================
GUARD = 20.0  # seconds: a hang guard on sockets, never an expectation
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
    assert emulator.emulator.faults == []


def test_a_same_origin_json_admin_write_is_accepted(emulator: RunningEmulator) -> None:
    host = f"127.0.0.1:{emulator.server.server_address[1]}"
    headers = f"Origin: http://{host}\r\nSec-Fetch-Site: same-origin\r\nContent-Type: application/json\r\n"
    answer = raw_exchange(
        emulator, http("POST", "/_emulator/faults", host=host, body=FAULT, headers=headers)
    )
    assert status_of(answer) == 200, answer
    assert len(emulator.emulator.faults) == 1


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
    assert emulator.emulator.store.count(OWN, {}) == 0


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


# == 4. connection timeout, cap and body limit ========================================================
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


# == 5. doctor and scheme-less environment proxies ====================================================
SECRET = first.SECRET


def proxy_profile(tmp_path: Path, endpoint: str) -> dict[str, str | None]:
    path = first.write_config(
        tmp_path / "conf",
        f"profiles:\n  default:\n    endpoint: {endpoint}\n    project_id: {OWN}\n    retries: 0\n"
        "    auth: {method: token, token_env: T}\n",
    )
    return {"BACKUPSHARE_CONFIG": str(path), "T": DEFAULT_TOKEN, "BACKUPSHARE_TOKEN": None}


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy"])
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_doctor_masks_a_scheme_less_proxy_password(
    bs: Callable[..., CliResult], tmp_path: Path, refused_port: int, variable: str, fmt: str
) -> None:
    env = proxy_profile(tmp_path, first.DOCTOR_VIA_PROXY.format(port=refused_port))
    env[variable] = f"user:{SECRET}@127.0.0.1:{refused_port}"
    result = bs("doctor", "-o", fmt, env=env)
    first.assert_never_shown(result, SECRET)
    assert result.code == 8, result.out + result.err
    assert f"http://***@127.0.0.1:{refused_port} (environment)" in result.out
    assert f"cannot connect to the proxy 127.0.0.1:{refused_port}" in result.out  # it was used


def test_a_scheme_less_environment_proxy_is_used_as_http(
    bs: Callable[..., CliResult], tmp_path: Path, refused_port: int
) -> None:
    env = proxy_profile(tmp_path, first.VIA_PROXY)
    env["HTTPS_PROXY"] = f"user:{SECRET}@127.0.0.1:{refused_port}"
    result = bs("list-shares", "--debug", env=env)
    first.assert_never_shown(result, SECRET)
    assert result.code == 8, result.err
    # refused by the proxy (had requests read `user:` as the scheme: "not supported proxy scheme")
    assert "error: cannot reach vbs.eu-de.example.invalid: [Errno 111] Connection refused" in (
        result.err
    )


@pytest.mark.parametrize(
    "value",
    [f"user:{SECRET}@127.0.0.1:9/?q=1", f"socks5://user:{SECRET}@127.0.0.1:9", f"u:{SECRET}@:9"],
    ids=["query", "scheme", "no-host"],
)
@pytest.mark.parametrize("command", ["list-shares", "doctor", "doctor-json"])
def test_an_environment_proxy_is_checked_like_a_configured_one(
    bs: Callable[..., CliResult], tmp_path: Path, value: str, command: str
) -> None:
    env = proxy_profile(tmp_path, first.DOCTOR_VIA_PROXY.format(port=9))
    env["HTTPS_PROXY"] = value
    argv = {
        "list-shares": ("list-shares",),
        "doctor": ("doctor",),
        "doctor-json": ("doctor", "-o", "json"),
    }
    result = bs(*argv[command], env=env)
    first.assert_never_shown(result, SECRET)
    assert result.code == 3, result.out + result.err
    assert "proxy (env HTTPS_PROXY): " in result.out + result.err
    assert "***@" in result.out + result.err


# == 6. any field may be any JSON ===================================================================
# Values a parser has tripped on, drawn often: digits int() refuses, numbers too long to print.
STRANGE = ["²", "9" * 5000, "-1", " 12", "1e3", 10**4200, -(10**30), "٣", float("nan")]
JSON_SCALARS = (
    st.sampled_from(STRANGE)
    | st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(STRANGE)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
VOLUME = first.VOLUME


def vbs_share() -> dict[str, Any]:
    return record(str(uuid.uuid4()), description="d")


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


def cbr_member() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "backup_id": BACKUP,
        "dest_project_id": first.P1,
        "status": "pending",
        "vault_id": None,
        "created_at": "2024-05-01T09:00:00.000000",
        "updated_at": "2024-05-01T09:00:00.000000",
    }


RECORD_TYPES: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[Any], Any]]] = {
    "vbs-share": (vbs_share, lambda r: Share.from_api(r)),
    "vbs-backup": (backup_record, lambda r: Backup.listed_vbs(r)),
    "cbr-backup": (cbr_backup, lambda r: Backup.listed_cbr(r)),
    "cbr-member": (cbr_member, lambda r: Share.from_cbr_member(r)),
    "cbr-offer": (cbr_backup, lambda r: Share.from_cbr_offer(r, first.P1, "pending")),
}


def field_paths(value: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every field of a record, nested ones (a sharing's backup) too."""
    paths = []
    for key, inner in value.items():
        paths.append((*prefix, key))
        if isinstance(inner, dict):
            paths.extend(field_paths(inner, (*prefix, key)))
    return paths


def render_everywhere(parsed: Any) -> None:
    """The parsed record through every format, as a listing and (a sharing) shown alone."""
    for fmt in output.FORMATS:
        out = output.Output(format=fmt, stdout=io.StringIO(), stderr=io.StringIO())
        if isinstance(parsed, Share):
            out.shares([[parsed]])
            out.shares([[parsed]], shared_with_me=True)
            out.share_detail(parsed)
        else:
            out.backups([[parsed]])


@given(kind=st.sampled_from(sorted(RECORD_TYPES)), field=st.integers(0, 50), value=JSON_VALUES)
@example(kind="vbs-backup", field=3, value="²")  # 3: size
@example(kind="cbr-backup", field=3, value="9" * 5000)  # 3: resource_size
@example(kind="vbs-share", field=10, value=10**4200)  # 10: backup.size
def test_any_json_in_any_field_is_unreadable_or_unknown_never_a_crash(
    kind: str, field: int, value: Any
) -> None:
    make, parse = RECORD_TYPES[kind]
    base = make()
    paths = field_paths(base)
    path = paths[field % len(paths)]
    target = base
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        parsed = parse(base)
    except UnexpectedResponse:
        return  # an unreadable answer: exit 8
    render_everywhere(parsed)


def test_the_examples_name_the_size_fields() -> None:
    assert field_paths(backup_record())[3] == ("size",)
    assert field_paths(cbr_backup())[3] == ("resource_size",)
    assert field_paths(vbs_share())[10] == ("backup", "size")


@pytest.mark.parametrize("size", ["²", "9" * 5000, "٣", 10**4000, 1e300, -5])
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_a_strange_size_is_shown_unknown(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], size: Any, fmt: str
) -> None:
    def respond(h: Handler, seen: Seen) -> None:
        item = {**backup_record(), "size": size}
        send(h, 200, {"backups": [item] if seen.query.get("offset") == "0" else []})

    server = hostile(respond)
    result = bs("backups", "-o", fmt, env=endpoint_env(server.url))
    assert result.code == 0, result.err
    if fmt == "table":
        assert "nightly" in result.out and " GB" not in result.out
    elif fmt == "csv":
        assert result.out.splitlines()[1].split(",")[4] == ""  # the size column: unknown


# == 7. a FIFO as an ids file ========================================================================
@pytest.mark.parametrize(
    "argv",
    [("cancel", "--ids-file", "{fifo}", "--yes"), ("share", BACKUP, "--projects-file", "{fifo}")],
    ids=["ids-file", "projects-file"],
)
def test_a_fifo_nobody_writes_to_does_not_block_for_ever(
    cli: Callable[..., CliResult],
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    from backupshare.cli import arguments

    monkeypatch.setattr(arguments, "IDS_FILE_SECONDS", 0.2)
    fifo = tmp_path / "ids"
    os.mkfifo(fifo)
    option = argv[2] if argv[0] == "share" else argv[1]
    result = cli(*(arg.format(fifo=fifo) for arg in argv))
    assert result.code == 2, result.err
    assert result.err.startswith(f"error: {option} {fifo}: not all of it arrived within 0.2 s"), (
        result.err
    )
    assert "hint: is something writing to it?" in result.err
    assert [e for e in emulator.emulator.logged() if e["method"] != "GET"] == []


def test_a_fifo_with_a_writer_is_read(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    fifo = tmp_path / "projects"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "w") as handle:  # blocks until the CLI opens it: a late writer
            handle.write(f"{first.P1}\n")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    result = cli("share", BACKUP, "--projects-file", str(fifo), "-o", "json")
    writer.join(GUARD)
    assert result.code == 0, result.err
    assert json.loads(result.out)["results"][0]["to_project_id"] == first.P1


def test_process_substitution_still_works(emulator: RunningEmulator) -> None:
    env = {**os.environ, "BACKUPSHARE_ENDPOINT": emulator.url, "BACKUPSHARE_PROJECT_ID": OWN}
    env["BACKUPSHARE_TOKEN"] = DEFAULT_TOKEN
    script = f'"{BIN}" share {BACKUP} --projects-file <(sleep 0.2; echo {first.P1}) -o ids'
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=GUARD, check=False
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 1


# == 8. regions, derived URLs, CSV formulas by default, YAML's bidi overrides ========================
@pytest.mark.parametrize("region", ["eu-de\n", "eu-de\r", "eu-de/x", "eu-de.evil.example"])
def test_a_region_with_a_trailing_line_break_is_refused(
    bs: Callable[..., CliResult], region: str
) -> None:
    env = {
        "BACKUPSHARE_ENDPOINT": None,
        "BACKUPSHARE_CLOUD": "otc",
        "BACKUPSHARE_REGION": region,
        "BACKUPSHARE_PROJECT_ID": OWN,
        "BACKUPSHARE_TOKEN": DEFAULT_TOKEN,
    }
    result = bs("list-shares", env=env)
    assert result.code == 3, result.err
    assert "does not look like a region" in result.err


@pytest.mark.parametrize(
    ("template", "region"),
    [
        ("https://vbs.{region}.example", "eu-de\n"),
        ("http://vbs.{region}.example", "eu-de"),  # plain http off loopback
        ("https://vbs.{region}.example?x", "eu-de"),
    ],
)
def test_derived_urls_are_checked_like_configured_ones(template: str, region: str) -> None:
    with pytest.raises(ConfigError, match="the URL derived from cloud and region"):
        resolution.derived_url(template, region)
    assert (
        resolution.derived_url("https://vbs.{region}.example", "eu-de")
        == "https://vbs.eu-de.example"
    )


CSV_NAMES = ["=cmd|' /C calc'!A0", "@SUM(A1)", "\tlead", "\rlead", "+1", "-2", "plain"]


def named_backups(names: list[str]) -> Callable[[Handler, Seen], None]:
    def respond(h: Handler, seen: Seen) -> None:
        first_page = seen.query.get("offset") == "0"
        if "/backups" in seen.path:
            items = [{**backup_record(), "name": name} for name in names]
            send(h, 200, {"backups": items if first_page else []})
        else:
            items = [record(to=uuid.uuid4().hex, name=name) for name in names]
            send(h, 200, {"shared": items if first_page else []})

    return respond


@pytest.mark.parametrize(
    ("command", "column"), [("backups", "name"), ("list-shares", "backup_name")]
)
def test_csv_neutralises_free_text_formulas_by_default(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], command: str, column: str
) -> None:
    server = hostile(named_backups(CSV_NAMES))
    plain = bs(command, "-o", "csv", env=endpoint_env(server.url))
    safe = bs(command, "-o", "csv", "--csv-safe")
    assert plain.code == 0 and safe.code == 0, plain.err + safe.err
    plain_names = [row[column] for row in csv.DictReader(io.StringIO(plain.out))]
    safe_names = [row[column] for row in csv.DictReader(io.StringIO(safe.out))]
    assert plain_names == [
        "'=cmd|' /C calc'!A0",
        "'@SUM(A1)",
        "'\\tlead",
        "'\\rlead",
        "+1",
        "-2",
        "plain",
    ]
    assert safe_names == [*plain_names[:4], "'+1", "'-2", "plain"]


def test_csv_neutralises_a_service_error_message(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile]
) -> None:
    def respond(h: Handler, seen: Seen) -> None:
        if seen.method == "GET":
            send(h, 200, {"shared": []})
        else:
            send(h, 400, {"error_code": "VBS.1", "error_msg": '=HYPERLINK("http://evil")'})

    server = hostile(respond)
    ids = [str(uuid.uuid4()) for _ in range(2)]
    result = bs("cancel", *ids, "--yes", "-o", "csv", env=endpoint_env(server.url))
    assert result.code in (6, 7), result.out + result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert len(rows) == 2, result.out + result.err
    assert all(row["error"].startswith("'=HYPERLINK") for row in rows)


def test_yaml_escapes_bidi_overrides_and_other_non_ascii(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile]
) -> None:
    name = "invoice\u202egpj.exe ü"
    server = hostile(named_backups([name]))
    result = bs("backups", "-o", "yaml", env=endpoint_env(server.url))
    assert result.code == 0, result.err
    assert "\u202e" not in result.out and "ü" not in result.out
    assert "\\u202E" in result.out
    assert result.out.isascii()
    assert yaml.safe_load(result.out)[0]["name"] == name  # still the exact value


# == 9. what the attack did not verify ===============================================================
# (no access key: with one, the environment's AK/SK would take over from the profile's token)
CREDENTIAL_VALUES = {
    "BACKUPSHARE_PASSWORD": f"pw-{SECRET}",
    "BACKUPSHARE_SECRET_KEY": f"sk-{SECRET}",
    "BACKUPSHARE_SECURITY_TOKEN": f"st-{SECRET}",
    "HUAWEICLOUD_SDK_SK": f"sdk-{SECRET}",
}


def test_a_secret_command_does_not_inherit_our_credentials(
    bs: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    seen = tmp_path / "helper-env"
    helper = f"sh -c 'env > {seen}; echo {DEFAULT_TOKEN}'"
    path = first.write_config(
        tmp_path / "conf",
        f"profiles:\n  default:\n    endpoint: {emulator.url}\n    project_id: {OWN}\n"
        f'    auth:\n      method: token\n      token_command: "{helper}"\n',
    )
    env: dict[str, str | None] = {"BACKUPSHARE_CONFIG": str(path), "BACKUPSHARE_TOKEN": None}
    env |= {**CREDENTIAL_VALUES, "HELPER_NEEDS_THIS": "kept"}
    result = bs("list-shares", "-o", "json", env=env)
    assert result.code == 0, result.err
    inherited = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert inherited.get("HELPER_NEEDS_THIS") == "kept"  # the rest of the environment is there
    assert "PATH" in inherited and "HOME" in inherited
    assert sorted(set(inherited) & set(CREDENTIAL_VALUES)) == []
    assert SECRET not in seen.read_text()


def test_config_init_writes_0600_in_a_checked_directory_end_to_end(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The installed command under `umask 000`: the new directories are 0700, the file 0600,
    and the CLI then accepts the file it wrote (its own permission check passes)."""
    path = tmp_path / "new" / "deeper" / "config.yaml"
    env = {**os.environ, "MY_TOKEN": DEFAULT_TOKEN, "BACKUPSHARE_TOKEN": ""}
    init = (
        f"umask 000; exec '{BIN}' config init --config '{path}' --endpoint {emulator.url} "
        f"--project-id {OWN} --auth-method token --secret-env MY_TOKEN"
    )
    done = subprocess.run(
        ["bash", "-c", init], capture_output=True, text=True, env=env, timeout=GUARD, check=False
    )
    assert done.returncode == 0, done.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert "token_env: MY_TOKEN" in path.read_text()
    listed = subprocess.run(
        [str(BIN), "--config", str(path), "list-shares", "-o", "json"],
        capture_output=True, text=True, env=env, timeout=GUARD, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize("fmt", ["ids", "jsonl", "csv", "json", "yaml", "table"])
def test_head_of_a_large_backup_listing_is_141_quietly(
    emulator: RunningEmulator, tmp_path: Path, fmt: str
) -> None:
    """`list-shares` has this test in test_e2e.py; `backups` pages its own way."""
    seeds = [{"id": str(uuid.uuid4()), "name": f"b{i}"} for i in range(3000)]
    assert requests.post(
        f"{emulator.url}/_emulator/seed", json={"backups": seeds}, timeout=GUARD
    ).ok
    env = {**os.environ, "BACKUPSHARE_ENDPOINT": emulator.url, "BACKUPSHARE_PROJECT_ID": OWN}
    env["BACKUPSHARE_TOKEN"] = DEFAULT_TOKEN
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{BIN}' backups -o {fmt} 2>err.txt | head -1; "
         "echo \"exit=$?\"; cat err.txt"],
        capture_output=True, text=True, env=env, timeout=60, check=False, cwd=str(tmp_path),
    )  # fmt: skip
    head, status, *stderr = done.stdout.splitlines()
    assert head.strip()
    assert status == "exit=141", done.stdout
    assert stderr == []
