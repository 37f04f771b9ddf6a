"""The attempt deadline: an answer dripped byte by byte ends at it, --retries 0 is one attempt,
and no flag switches the deadline off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .helpers import GUARD, CliResult
from .hostile import Handler, Hostile, Respond, Seen, endpoint_env, refusing, run_bin, write_config


# -- the attempt deadline --------------------------------------------------------------------------
def drip_body(h: Handler, seen: Seen) -> None:
    """Headers at once, then one body byte every 0.2 s for up to 20 s."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "100")
    h.end_headers()
    for _ in range(100):
        if h.server.hostile.stopping.wait(0.2):
            return
        try:
            h.wfile.write(b" ")
        except OSError:
            return  # the client hung up


def drip_headers(h: Handler, seen: Seen) -> None:
    """The status line, then one header byte every 0.2 s for up to 20 s."""
    try:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
    except OSError:
        return
    for _ in range(100):
        if h.server.hostile.stopping.wait(0.2):
            return
        try:
            h.wfile.write(b"a")
        except OSError:
            return


@pytest.mark.e2e
@pytest.mark.parametrize("respond", [drip_body, drip_headers], ids=["body", "headers"])
def test_a_dripping_answer_ends_at_the_attempt_deadline(
    hostile: Callable[..., Hostile], tmp_path: Path, respond: Respond
) -> None:
    server = hostile(respond)
    # `retries: 0` from the file as well: the flag alone is ignored (see the xfail below).
    config = write_config(tmp_path / "conf", "profiles:\n  default:\n    retries: 0\n")
    done = run_bin(
        "--timeout", "1", "--retries", "0", "list-shares",
        env={**endpoint_env(server.url), "BACKUPSHARE_CONFIG": str(config)},
        timeout=GUARD,
    )  # fmt: skip
    assert done.returncode == 8, done.stderr
    assert done.stderr.startswith(f"error: no answer from 127.0.0.1:{server.port} within 1 s"), (
        done.stderr
    )
    assert len(server.requests()) == 1


def test_retries_zero_on_the_command_line_means_one_attempt(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile]
) -> None:
    server = hostile(refusing)
    result = bs("--retries", "0", "list-shares", env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert len(server.requests()) == 1


@pytest.mark.parametrize(
    "flag",
    [
        pytest.param(
            ("--timeout", "inf"),
            # today: an internal error, and the deadline's timer thread dies (OverflowError)
            marks=pytest.mark.filterwarnings(
                "ignore::pytest.PytestUnhandledThreadExceptionWarning"
            ),
        ),
        ("--timeout", "nan"),
        ("--timeout", "-1"),
        ("--timeout", "0"),
        ("--retries", "-1"),
    ],
    ids=["timeout-inf", "timeout-nan", "timeout-negative", "timeout-zero", "retries-negative"],
)
def test_the_deadline_cannot_be_switched_off_by_a_flag(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], flag: tuple[str, str]
) -> None:
    server = hostile(refusing)
    result = bs(*flag, "list-shares", env=endpoint_env(server.url))
    assert result.code == 2, result.err
    assert server.connections == 0
