"""A retried DELETE that finds nothing: absent after a refusal, canceled (with a note) after an
attempt that got no answer or a reset."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

import pytest

from backupshare.emulator import RunningEmulator

from .helpers import BACKUP, P1, CliResult, fault
from .hostile import Handler, Hostile, Seen, endpoint_env, send


# -- a retried DELETE that finds nothing -----------------------------------------------------------
@pytest.fixture
def one_sharing(bs: Callable[..., CliResult], emulator: RunningEmulator) -> str:
    result = bs("share", BACKUP, P1, "-o", "json", env=endpoint_env(emulator.url))
    assert result.code == 0, result.err
    return str(json.loads(result.out)["results"][0]["share_id"])


def test_a_refused_delete_then_404_is_absent(
    bs: Callable[..., CliResult], emulator: RunningEmulator
) -> None:
    missing = str(uuid.uuid4())
    fault(emulator, "status", method="DELETE", status=503, retry_after="0")
    result = bs("cancel", missing, "-o", "json", env=endpoint_env(emulator.url))
    assert result.code == 0, result.err
    assert json.loads(result.out)["results"][0]["result"] == "absent"
    assert "note:" not in result.err
    assert len(emulator.logged("DELETE")) == 2


UNANSWERED = "note: sharing {sid}: an attempt got no answer and the retry found the sharing gone: most likely that attempt ended it"


@pytest.mark.parametrize("kind", ["commit_then_502", "timeout"])
def test_an_unanswered_delete_then_404_is_canceled_with_a_note(
    bs: Callable[..., CliResult], emulator: RunningEmulator, one_sharing: str, kind: str
) -> None:
    if kind == "timeout":
        fault(emulator, "delay", method="DELETE", seconds=3)  # done, but answered too late
        extra = ("--timeout", "1")
    else:
        fault(emulator, "commit_then_502", method="DELETE")
        extra = ()
    result = bs("cancel", one_sharing, *extra)
    assert result.code == 0, result.err
    assert re.search(rf"^canceled\s+-\s+{one_sharing}\s+-", result.out, re.M), result.out
    assert UNANSWERED.format(sid=one_sharing) in result.err
    assert len(emulator.logged("DELETE")) == 2


def test_a_reset_delete_then_404_is_canceled_with_a_note(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile]
) -> None:
    import socket
    import struct

    def respond(h: Handler, seen: Seen) -> None:
        if len(h.server.hostile.requests("DELETE")) == 1:  # the first: no answer at all
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
        else:
            send(h, 404, {"error": {"code": "VolumeBackup.0404", "message": "not found"}})

    server = hostile(respond)
    sid = str(uuid.uuid4())
    result = bs("cancel", sid, "-o", "json", env=endpoint_env(server.url))
    assert result.code == 0, result.err
    assert json.loads(result.out)["results"][0]["result"] == "canceled"
    assert UNANSWERED.format(sid=sid) in result.err
    assert len(server.requests("DELETE")) == 2
