"""doctor: its steps without the CLI, --debug logs its requests like every command, and behind a
proxy it leaves DNS to the proxy."""

from __future__ import annotations

from typing import Any

import pytest

from backupshare.doctor import _clock

from .helpers import token_settings


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
    import threading

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
