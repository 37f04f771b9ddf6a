"""doctor: its steps without the CLI, --debug logs its requests like every command, and behind a
proxy it leaves DNS to the proxy.
The installed doctor against a running, a stopped and a clock-skewed emulator, and a wrong token."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest

from backupshare.doctor import _clock
from backupshare.emulator import RunningEmulator

from .helpers import backupshare, token_settings


# -- doctor --debug ------------------------------------------------------------------------------------
def test_doctor_debug_logs_its_requests_like_every_command(cli: Any) -> None:
    result = cli("--debug", "doctor")
    assert result.code == 0, result.err
    debug = [line for line in result.err.splitlines() if line.startswith("debug: ")]
    assert any("GET http://127.0.0.1:" in line for line in debug), result.err
    assert "emulator-token" not in result.err  # secrets redacted, as everywhere
    assert not any(line.startswith("debug: ") for line in cli("doctor").err.splitlines())


# -- doctor behind a proxy -------------------------------------------------------------------------
@pytest.fixture
def refusing_proxy() -> Any:
    """A loopback 'proxy' that records what it was asked to reach and refuses (502)."""
    import socketserver

    asked: list[str] = []

    class Refuse(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            asked.append(self.rfile.readline().decode("latin-1").strip())
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def test_doctor_behind_a_proxy_leaves_dns_to_the_proxy(
    cli: Any, monkeypatch: pytest.MonkeyPatch, refusing_proxy: Any
) -> None:
    import json

    proxy, asked = refusing_proxy
    host = "vbs.eu-de.otc.t-systems.com"  # never resolved here: the proxy is asked for it
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", f"https://{host}")
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    result = cli("--retries", "0", "doctor", "-o", "json")
    steps = {step["check"]: step for step in json.loads(result.out)}
    assert steps["proxy"] == {
        "check": "proxy",
        "status": "ok",
        "detail": f"{proxy} (environment)",
        "fix": "",
    }
    assert (
        steps["dns"]["status"] == "ok"
        and steps["dns"]["detail"] == f"skipped: the proxy resolves {host}"
    )
    assert steps["tcp"]["detail"].startswith(f"proxy 127.0.0.1:{proxy.rsplit(':', 1)[1]} in ")
    assert steps["credentials"]["status"] == "fail" and result.code == 8
    # the doctor's own probe of the proxy says nothing; the client's CONNECT names the host
    assert [line.rsplit(" ", 1)[0] for line in asked if line] == [f"CONNECT {host}:443"]


@pytest.mark.parametrize("zone", ["GMT", "+0000", "-0000"])
def test_clock_reads_every_utc_spelling_of_a_date(zone: str) -> None:
    step = _clock(token_settings("http://127.0.0.1:9"), f"Sat, 01 Jan 2000 00:00:00 {zone}")
    assert (step.check, step.status) == ("clock", "warn")
    assert "ahead of the server" in step.detail


# -- doctor ----------------------------------------------------------------------------------------
def doctor(emulator: RunningEmulator, **extra: str) -> tuple[int, dict[str, dict[str, str]]]:
    done = backupshare(emulator, "doctor", "-o", "json", **extra)
    steps = {step["check"]: step for step in json.loads(done.stdout)}
    return done.returncode, steps


@pytest.mark.e2e
def test_doctor_against_a_running_emulator(emulator: RunningEmulator) -> None:
    code, steps = doctor(emulator)
    assert code == 0
    assert [s["status"] for s in steps.values()] == ["warn"] + ["ok"] * 7  # no config file
    assert steps["credentials"]["detail"] == "token accepted; 0 sharings"


@pytest.mark.e2e
def test_doctor_with_a_wrong_token(emulator: RunningEmulator) -> None:
    code, steps = doctor(emulator, BACKUPSHARE_TOKEN="wrong")
    assert code == 4 and steps["credentials"]["status"] == "fail"
    assert "APIG.0301" in steps["credentials"]["detail"]


@pytest.mark.e2e
def test_doctor_against_a_stopped_emulator(emulator: RunningEmulator, refused_port: int) -> None:
    code, steps = doctor(emulator, BACKUPSHARE_ENDPOINT=f"http://127.0.0.1:{refused_port}")
    assert code == 8 and steps["tcp"]["status"] == "fail"
    assert "is the service (or `backupshare emulator`) running?" in steps["tcp"]["fix"]


@pytest.mark.e2e
def test_doctor_sees_a_skewed_clock(make_emulator: Any) -> None:
    running = make_emulator(clock_skew_seconds=3600)
    code, steps = doctor(
        running,
        BACKUPSHARE_TOKEN="",
        BACKUPSHARE_ACCESS_KEY="EMULATORACCESSKEY000",
        BACKUPSHARE_SECRET_KEY="emulator-secret-key",
    )
    assert code == 4
    assert steps["credentials"]["status"] == "fail"
    assert steps["clock"]["status"] == "fail"
    assert re.search(r"(3599|3600|3601) s behind the server", steps["clock"]["detail"])
