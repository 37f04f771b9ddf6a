"""The emulator over raw HTTP: the service's rules, error shapes, robustness, faults, the log."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from typing import Any

import pytest
import requests

from backupshare.auth import login_body
from backupshare.emulator import BackupSeed, EmulatorConfig, RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN, make_server

from .helpers import BACKUP, BACKUP2, CREATING, ENCRYPTED, GUARD, OWN, P1, P2, P3, fault, terminated

HEADERS = {"X-Auth-Token": DEFAULT_TOKEN}


def base(emulator: RunningEmulator) -> str:
    return f"{emulator.url}/v2/{OWN}/os-vendor-backup-sharing"


def post_share(emulator: RunningEmulator, backup: str, targets: list[Any]) -> requests.Response:
    body = {"shared": {"backup_id": backup, "to_project_ids": targets}}
    return requests.post(base(emulator), json=body, headers=HEADERS, timeout=5)


def target(i: int) -> str:
    return f"{i:032x}"


def test_share_returns_a_list_of_sharings_and_lists_them(emulator: RunningEmulator) -> None:
    response = post_share(emulator, BACKUP, [P1, P2])
    assert response.status_code == 200
    shared = response.json()["shared"]
    assert [s["to_project_id"] for s in shared] == [P1, P2]
    assert set(shared[0]) == {
        "id", "backup_id", "from_project_id", "to_project_id",
        "created_at", "updated_at", "deleted", "deleted_at",
    }  # fmt: skip
    listed = requests.get(f"{base(emulator)}/detail", headers=HEADERS, timeout=5).json()["shared"]
    assert {s["id"] for s in listed} == {s["id"] for s in shared}
    assert listed[0]["backup"]["name"] == "db-nightly"
    assert "has_dependent_backups" in listed[0]["backup"]


@pytest.mark.parametrize(
    ("backup", "targets", "status", "code"),
    [
        (CREATING, [P1], 400, "VolumeBackup.0104"),
        (ENCRYPTED, [P1], 400, "VolumeBackup.0105"),
        (BACKUP, [OWN], 400, "VolumeBackup.0106"),
        (BACKUP, ["not-a-project"], 400, "VolumeBackup.0006"),
        (BACKUP, [P1.upper()], 400, "VolumeBackup.0006"),
        (BACKUP, [], 400, "VolumeBackup.0005"),
        (BACKUP, [P1, P1], 400, "VolumeBackup.0005"),
        (BACKUP, [12], 400, "VolumeBackup.0006"),
        ("not-a-uuid", [P1], 400, "VolumeBackup.0004"),
        ("00000000-0000-4000-8000-000000000000", [P1], 404, "VolumeBackup.0204"),
    ],
)
def test_share_rules(
    emulator: RunningEmulator, backup: str, targets: list[Any], status: int, code: str
) -> None:
    response = post_share(emulator, backup, targets)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.headers["X-Request-Id"]


def test_at_most_ten_projects_per_backup_all_or_nothing(emulator: RunningEmulator) -> None:
    assert post_share(emulator, BACKUP, [target(i) for i in range(1, 9)]).status_code == 200
    over = post_share(emulator, BACKUP, [target(9), target(10), target(11)])
    assert over.status_code == 400
    assert over.json()["error"]["code"] == "VolumeBackup.0108"
    count = requests.get(f"{base(emulator)}/count", headers=HEADERS, timeout=5).json()
    assert count == {"count": 8}  # nothing of the refused request was committed
    assert post_share(emulator, BACKUP, [target(9), target(10)]).status_code == 200


def test_already_shared_is_400(emulator: RunningEmulator) -> None:
    post_share(emulator, BACKUP, [P1])
    again = post_share(emulator, BACKUP, [P2, P1])
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "VolumeBackup.0107"


def test_filters_sorting_and_paging(emulator: RunningEmulator) -> None:
    post_share(emulator, BACKUP, [P1, P2])
    post_share(emulator, BACKUP2, [P1])

    def ids(**params: str) -> list[str]:
        response = requests.get(
            f"{base(emulator)}/detail", params=params, headers=HEADERS, timeout=5
        )
        assert response.status_code == 200, response.text
        return [(s["backup"]["name"], s["to_project_id"]) for s in response.json()["shared"]]

    assert len(ids()) == 3
    assert ids(backup_id=BACKUP2) == [("web-weekly", P1)]
    assert sorted(ids(to_project_id=P1)) == [("db-nightly", P1), ("web-weekly", P1)]
    assert ids(name="WEEK") == [("web-weekly", P1)]  # fuzzy, case-insensitive
    assert ids(name="%") == []  # LIKE wildcards are literal
    assert len(ids(status="available")) == 3
    assert ids(availability_zone="nowhere") == []
    assert ids(avalilability_zone="nowhere") == []  # the reference's spelling works too
    assert [n for n, _ in ids(sort_key="name", sort_dir="asc")] == [
        "db-nightly", "db-nightly", "web-weekly"
    ]  # fmt: skip
    assert next(n for n, _ in ids(sort_key="name", sort_dir="desc")) == "web-weekly"
    first, second = ids(limit="2", offset="0"), ids(limit="2", offset="2")
    assert len(first) == 2 and len(second) == 1
    assert ids(limit="2", offset="3") == []
    assert ids(share_to_me="true") == [("partner-golden-image", OWN)]


@pytest.mark.parametrize(
    "params",
    [{"limit": "-1"}, {"limit": "x"}, {"offset": "1.5"}, {"sort_key": "secret"},
     {"sort_dir": "up"}, {"share_to_me": "maybe"}, {"status": "bogus"}],
)  # fmt: skip
def test_invalid_list_parameters_are_400(emulator: RunningEmulator, params: dict[str, str]) -> None:
    response = requests.get(f"{base(emulator)}/detail", params=params, headers=HEADERS, timeout=5)
    assert response.status_code == 400
    assert "error" in response.json()


def test_page_cap_returns_short_pages(make_emulator: Any) -> None:
    running = make_emulator(page_cap=2)
    post_share(running, BACKUP, [P1, P2, P3])
    response = requests.get(
        f"{base(running)}/detail", params={"limit": "100"}, headers=HEADERS, timeout=5
    )
    assert len(response.json()["shared"]) == 2


def test_show_count_and_cancel(emulator: RunningEmulator) -> None:
    shared = post_share(emulator, BACKUP, [P1, P2]).json()["shared"]
    one = requests.get(f"{base(emulator)}/{shared[0]['id']}", headers=HEADERS, timeout=5)
    assert one.json()["shared"]["backup"]["id"] == BACKUP
    deleted = requests.delete(f"{base(emulator)}/{shared[0]['id']}", headers=HEADERS, timeout=5)
    assert deleted.status_code == 200 and deleted.content == b""
    again = requests.delete(f"{base(emulator)}/{shared[0]['id']}", headers=HEADERS, timeout=5)
    assert again.status_code == 404
    whole = requests.delete(
        f"{base(emulator)}/{BACKUP}", params={"is_backup_id": "true"}, headers=HEADERS, timeout=5
    )
    assert whole.status_code == 200
    count = requests.get(f"{base(emulator)}/count", headers=HEADERS, timeout=5).json()
    assert count == {"count": 0}
    missing = requests.delete(
        f"{base(emulator)}/{P1[:8]}-0000-4000-8000-000000000000",
        params={"is_backup_id": "true"},
        headers=HEADERS,
        timeout=5,
    )
    assert missing.status_code == 404


def test_partner_sharing_is_visible_but_not_cancellable(emulator: RunningEmulator) -> None:
    mine = requests.get(
        f"{base(emulator)}/detail", params={"share_to_me": "true"}, headers=HEADERS, timeout=5
    ).json()["shared"][0]
    assert requests.get(f"{base(emulator)}/{mine['id']}", headers=HEADERS, timeout=5).ok
    refused = requests.delete(f"{base(emulator)}/{mine['id']}", headers=HEADERS, timeout=5)
    assert refused.status_code == 404


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "APIG.0301"), ({"X-Auth-Token": "wrong"}, "APIG.0301"),
     ({"Authorization": "Basic abc"}, "APIG.0303")],
)  # fmt: skip
def test_unauthenticated_requests_get_gateway_401(
    emulator: RunningEmulator, headers: dict[str, str], code: str
) -> None:
    response = requests.get(f"{base(emulator)}/detail", headers=headers, timeout=5)
    assert response.status_code == 401
    body = response.json()
    assert body["error_code"] == code and body["request_id"] == response.headers["X-Request-Id"]


def test_other_projects_url_is_403(emulator: RunningEmulator) -> None:
    url = f"{emulator.url}/v2/{P1}/os-vendor-backup-sharing/detail"
    response = requests.get(url, headers=HEADERS, timeout=5)
    assert response.status_code == 403
    assert response.json()["error_code"] == "APIG.0302"


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("GET", "/nowhere", None, {}, 404),
        ("PUT", "/v2/{p}/os-vendor-backup-sharing", None, {}, 405),
        ("PATCH", "/v2/{p}/os-vendor-backup-sharing/detail", None, {}, 405),
        ("POST", "/v2/{p}/os-vendor-backup-sharing", b"{not json", {"Content-Type": "application/json"}, 400),
        ("POST", "/v2/{p}/os-vendor-backup-sharing", b'{"shared": 1}', {"Content-Type": "application/json"}, 400),
        ("POST", "/v2/{p}/os-vendor-backup-sharing", b"[]", {"Content-Type": "application/json"}, 400),
        ("POST", "/v2/{p}/os-vendor-backup-sharing", b"\xff\xfe", {"Content-Type": "application/json"}, 400),
        ("POST", "/v2/{p}/os-vendor-backup-sharing", b"a=b", {"Content-Type": "text/plain"}, 415),
        ("GET", "/v2/{p}/os-vendor-backup-sharing/not-an-id", None, {}, 404),
        ("POST", "/v3/auth/tokens", b"{}", {"Content-Type": "application/json"}, 400),
        ("GET", "/v3/auth/tokens", None, {}, 405),
    ],
)  # fmt: skip
def test_bad_requests_get_the_right_4xx(
    emulator: RunningEmulator,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    status: int,
) -> None:
    url = emulator.url + path.format(p=OWN)
    response = requests.request(method, url, data=body, headers={**HEADERS, **headers}, timeout=5)
    assert response.status_code == status, response.text
    response.json()  # always a JSON error body


def test_oversized_and_garbage_requests_do_not_hurt_it(emulator: RunningEmulator) -> None:
    host, port = emulator.server.server_address[:2]
    for raw in (
        b"GARBAGE\r\n\r\n",
        b"POST /v2/x/os-vendor-backup-sharing HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
        b"POST /v2/x/os-vendor-backup-sharing HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\n\r\n",
        b"",
    ):
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        assert raw == b"" or b"APIG.0201" in reply, reply[:80]
    # still serving
    assert requests.get(f"{base(emulator)}/count", headers=HEADERS, timeout=5).json() == {
        "count": 0
    }


@pytest.mark.parametrize(
    ("style", "key"), [("vbs", "error"), ("cinder", "itemNotFound"), ("apig", "error_code")]
)
def test_error_styles(make_emulator: Any, style: str, key: str) -> None:
    running = make_emulator(error_style=style)
    response = requests.get(f"{base(running)}/{BACKUP}", headers=HEADERS, timeout=5)
    assert response.status_code == 404
    assert key in response.json()


def test_faults_status_retry_after_and_count(emulator: RunningEmulator) -> None:
    fault(emulator, status=429, retry_after="7", method="GET", count=2)
    url = f"{base(emulator)}/count"
    first = requests.get(url, headers=HEADERS, timeout=5)
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert first.json()["error_code"] == "APIG.0308"
    assert requests.get(url, headers=HEADERS, timeout=5).status_code == 429
    assert requests.get(url, headers=HEADERS, timeout=5).status_code == 200


def test_fault_commit_then_502_commits(emulator: RunningEmulator) -> None:
    fault(emulator, "commit_then_502", method="POST")
    assert post_share(emulator, BACKUP, [P1]).status_code == 502
    count = requests.get(f"{base(emulator)}/count", headers=HEADERS, timeout=5).json()
    assert count == {"count": 1}


def test_fault_reset_drops_the_connection(emulator: RunningEmulator) -> None:
    fault(emulator, "reset", method="GET")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{base(emulator)}/count", headers=HEADERS, timeout=5)


def test_fault_truncated_and_html(emulator: RunningEmulator) -> None:
    fault(emulator, "truncated", method="GET")
    response = requests.get(f"{base(emulator)}/detail", headers=HEADERS, timeout=5)
    with pytest.raises(ValueError):
        response.json()
    fault(emulator, "html", method="GET")
    response = requests.get(f"{base(emulator)}/detail", headers=HEADERS, timeout=5)
    assert response.headers["Content-Type"] == "text/html"


def test_admin_routes_and_request_log(emulator: RunningEmulator) -> None:
    spec = {"kind": "status", "status": 503, "method": "DELETE", "count": 1}
    added = requests.post(f"{emulator.url}/_emulator/faults", json=spec, timeout=5)
    assert added.status_code == 200 and added.json()["faults"][0]["status"] == 503
    bad = requests.post(f"{emulator.url}/_emulator/faults", json={"kind": "explode"}, timeout=5)
    assert bad.status_code == 400
    requests.get(f"{base(emulator)}/detail", params={"limit": "1"}, headers=HEADERS, timeout=5)
    log = requests.get(f"{emulator.url}/_emulator/requests", timeout=5).json()
    assert log[-1]["query"] == {"limit": "1"} and log[-1]["method"] == "GET"
    assert log[-1]["headers"]["X-Auth-Token"] == "***"  # shown only with the admin key
    seeded = requests.post(f"{emulator.url}/_emulator/seed", json={"shares": 25}, timeout=5)
    assert seeded.json() == {"created": 25}
    assert emulator.store.count(OWN, {}) == 25
    assert requests.post(f"{emulator.url}/_emulator/seed", json={}, timeout=5).status_code == 400
    requests.delete(f"{emulator.url}/_emulator/faults", timeout=5)
    assert emulator.faults == []


def test_custom_seed_and_file_database(tmp_path: Any, make_emulator: Any) -> None:
    db = str(tmp_path / "state.sqlite")
    seeds = [BackupSeed(BACKUP, OWN, "only")]
    first = make_emulator(db=db, backups=seeds)
    post_share(first, BACKUP, [P1])
    first.stop()
    second = make_emulator(db=db, backups=seeds)
    listed = requests.get(f"{base(second)}/detail", headers=HEADERS, timeout=5).json()["shared"]
    assert [s["to_project_id"] for s in listed] == [P1]  # state survived the restart


@pytest.mark.e2e
def test_emulator_module_runs_and_prints_its_url(tmp_path: Any) -> None:
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "backupshare.emulator", "--port", "0", "--backup", f"{BACKUP}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.rsplit(" ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:")
        response = requests.get(
            f"{url}/v2/{OWN}/os-vendor-backup-sharing/count", headers=HEADERS, timeout=5
        )
        assert response.json() == {"count": 0}
    finally:
        terminated(process)
    assert process.returncode == 0


def serving(poll_interval: float) -> RunningEmulator:
    """An emulator whose loop is told to poll for a stop only every `poll_interval` seconds."""
    emulator, server = make_server(EmulatorConfig())
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
    )
    thread.start()
    return RunningEmulator(emulator, server, thread)


def answers(running: RunningEmulator) -> bool:
    return requests.get(f"{running.url}/_emulator/backups", timeout=5).status_code == 200


def test_stop_returns_at_once_whatever_the_poll_interval() -> None:
    """stop() wakes the serving loop itself instead of waiting for its next poll (socketserver's
    own loop would keep this stop waiting for an hour), and the stopped emulator answers no more."""
    running = serving(poll_interval=3600)
    assert answers(running)  # the loop is up, and back to waiting for the next connection
    stopper = threading.Thread(target=running.stop, daemon=True)
    stopper.start()
    stopper.join(timeout=GUARD)  # a hang guard, not a timing assertion
    assert not stopper.is_alive(), "stop() waited for the poll interval"
    assert not running.thread.is_alive()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{running.url}/_emulator/backups", timeout=5)


def test_a_signal_landing_on_another_thread_is_handled_within_the_poll_interval() -> None:
    """The kernel may deliver a signal (`backupshare emulator`'s SIGTERM) to any thread; Python runs
    its handler in the main thread, and only between two waits of the loop there: poll_interval
    bounds how late that can be, even though stop() needs no polling."""

    class Stopped(Exception):
        pass

    def stop(signum: int, frame: object) -> None:
        raise Stopped

    def from_another_thread() -> None:
        time.sleep(0.2)  # so that the main thread is waiting in the loop by then (not a bound)
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)

    emulator, server = make_server(EmulatorConfig())
    woken_by_guard = threading.Event()

    def guard() -> None:  # ends a loop that never handles the signal, instead of hanging the run
        woken_by_guard.set()
        server.shutdown()

    previous = signal.signal(signal.SIGUSR1, stop)
    hang_guard = threading.Timer(GUARD, guard)
    try:
        hang_guard.start()
        threading.Thread(target=from_another_thread, daemon=True).start()
        with pytest.raises(Stopped):
            server.serve_forever(poll_interval=0.05)
    finally:
        hang_guard.cancel()
        signal.signal(signal.SIGUSR1, previous)
        server.server_close()
        emulator.store.close()
    assert not woken_by_guard.is_set(), "the signal waited for a stop from elsewhere"


def test_a_shut_down_server_serves_again() -> None:
    """A stop's wake-up left behind is drained, not mistaken for a connection or a second stop."""
    running = serving(poll_interval=0.01)
    running.server.shutdown()
    running.thread.join(timeout=GUARD)
    again = threading.Thread(target=running.server.serve_forever, daemon=True)
    again.start()
    try:
        assert answers(running) and answers(running)
    finally:
        RunningEmulator(running.emulator, running.server, again).stop()
    assert not again.is_alive()


@pytest.mark.e2e
def test_stopping_the_emulator_right_after_its_banner_is_clean() -> None:
    import subprocess

    from .helpers import BIN

    for _ in range(3):  # the SIGTERM lands as early as a reader of the banner can send it
        process = subprocess.Popen(
            [str(BIN), "emulator", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        assert process.stdout.readline().startswith("backupshare emulator listening on ")
        _, err = terminated(process)
        assert (process.returncode, err) == (0, "")


@pytest.mark.e2e
@pytest.mark.parametrize("how", ["flag", "env"])
def test_ready_file_holds_the_url_while_it_serves(
    how: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from .helpers import BIN

    run = tmp_path / "run"
    run.mkdir()
    ready = run / "ready"
    ready.write_text("http://127.0.0.1:9\n")  # a stale one, from an earlier run
    argv = [str(BIN), "emulator", "--port", "0"]
    if how == "flag":
        argv += ["--ready-file", str(ready)]
    else:
        monkeypatch.setenv("BACKUPSHARE_EMULATOR_READY_FILE", str(ready))
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        # The banner comes after the file: once the first line is out, the file is there.
        announced = process.stdout.readline().rsplit(" ", 1)[1].strip()
        url = ready.read_text()
        assert url == announced + "\n" and url.startswith("http://127.0.0.1:")
        response = requests.get(
            f"{url.strip()}/v2/{OWN}/os-vendor-backup-sharing/count", headers=HEADERS, timeout=5
        )
        assert response.json() == {"count": 0}
    finally:
        _, err = terminated(process)
    assert (process.returncode, err) == (0, "")
    assert list(run.iterdir()) == []  # removed on the way out, no temporary left


@pytest.mark.e2e
def test_ready_file_is_not_written_when_the_port_is_taken(tmp_path: Any) -> None:
    import subprocess

    from .helpers import BIN

    ready = tmp_path / "ready"
    ready.write_text("http://127.0.0.1:9\n")  # a stale one must not pass for this run's
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(BIN), "emulator", "--port", str(port), "--ready-file", str(ready)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert (done.returncode, done.stdout) == (8, "")
    assert done.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert not ready.exists()


@pytest.mark.e2e
def test_ready_file_in_a_missing_directory_is_an_error(tmp_path: Any) -> None:
    import subprocess

    from .helpers import BIN

    ready = tmp_path / "missing" / "ready"
    done = subprocess.run(
        [str(BIN), "emulator", "--port", "0", "--ready-file", str(ready)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr.startswith(f"error: cannot write the ready file {ready}: ")


@pytest.mark.e2e
def test_help_documents_every_option() -> None:
    import subprocess

    from .helpers import BIN

    done = subprocess.run(
        [str(BIN), "emulator", "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0
    for option in ("--ready-file FILE", "--allow-remote", "--admin-key", "loopback only"):
        assert option in done.stdout
    assert "BACKUPSHARE_EMULATOR_<OPTION>" in done.stdout


def test_every_option_reads_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from backupshare.emulator.__main__ import config_from_args, parse

    monkeypatch.setenv("BACKUPSHARE_EMULATOR_TOKEN", "one, two")
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_USER", "u:p")
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_BACKUP", f"{BACKUP}:creating")
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_ENCRYPTED_BACKUP", ENCRYPTED.upper())
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_VERBOSE", "yes")
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_ADMIN_KEY", "k")
    args = parse([])
    config = config_from_args(args)
    assert args.verbose is True and config.admin_key == "k"
    assert (config.tokens, config.users) == (["one", "two"], [("u", "p")])
    assert config.backups is not None
    assert [(b.id, b.status, b.encrypted) for b in config.backups] == [
        (BACKUP, "creating", False),
        (ENCRYPTED, "available", True),
    ]
    assert config_from_args(parse(["--token", "flag"])).tokens == ["flag"]  # flag > variable


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BACKUP", "nope", "'nope' is not a backup id (a UUID)"),
        ("ENCRYPTED_BACKUP", "nope", "'nope' is not a backup id (a UUID)"),
        ("AKSK", "no-colon", "expected A:B, got 'no-colon'"),
    ],
)
def test_a_bad_list_variable_is_a_usage_error(
    variable: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from backupshare.emulator.__main__ import parse

    monkeypatch.setenv(f"BACKUPSHARE_EMULATOR_{variable}", value)
    with pytest.raises(SystemExit) as exited:
        parse([])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"error: BACKUPSHARE_EMULATOR_{variable}: {message}\n"
        "hint: see 'backupshare emulator --help'\n"
    )


@pytest.mark.e2e
def test_emulator_rejects_bad_options() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "backupshare.emulator", "--backup", "nope"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "error: argument --backup: 'nope' is not a backup id (a UUID)\n"
        "hint: see 'backupshare emulator --help'\n"
    )


def test_iam_login_and_temporary_keys(emulator: RunningEmulator) -> None:
    body = login_body("emulator-user", "emulator-password", "acme", OWN)
    response = requests.post(f"{emulator.url}/v3/auth/tokens", json=body, timeout=5)
    assert response.status_code == 201
    token = response.headers["X-Subject-Token"]
    assert response.json()["token"]["expires_at"].endswith("Z")
    listed = requests.get(f"{base(emulator)}/count", headers={"X-Auth-Token": token}, timeout=5)
    assert listed.json() == {"count": 0}
    body["auth"]["identity"]["password"]["user"]["password"] = "wrong"
    refused = requests.post(f"{emulator.url}/v3/auth/tokens", json=body, timeout=5)
    assert refused.status_code == 401 and refused.json()["error_code"] == "IAM.0002"
    temp = requests.post(
        f"{emulator.url}/v3.0/OS-CREDENTIAL/securitytokens",
        json={"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 900}}}},
        headers={"X-Auth-Token": token},
        timeout=5,
    )
    assert temp.status_code == 201
    assert set(temp.json()["credential"]) == {"access", "secret", "securitytoken", "expires_at"}


def test_expired_token_is_apig_0307(make_emulator: Any) -> None:
    running = make_emulator(token_ttl_seconds=-1)
    body = login_body("emulator-user", "emulator-password", "d", None)
    token = requests.post(f"{running.url}/v3/auth/tokens", json=body, timeout=5).headers[
        "X-Subject-Token"
    ]
    response = requests.get(f"{base(running)}/count", headers={"X-Auth-Token": token}, timeout=5)
    assert response.status_code == 401 and response.json()["error_code"] == "APIG.0307"


def test_log_json_bodies_are_text(emulator: RunningEmulator) -> None:
    post_share(emulator, BACKUP, [P1])
    entry = emulator.logged("POST")[-1]
    assert json.loads(entry["body"])["shared"]["to_project_ids"] == [P1]
