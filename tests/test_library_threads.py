"""A Client shared by threads (docs/library.md "Threads"), review of #20: with password auth, the
threads that use a fresh Client first wait for the one IAM login instead of each sending one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from backupshare import Client
from backupshare.testing import emulator

THREADS = 16


def test_threads_using_a_fresh_password_client_share_one_login(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with emulator(service="cbr") as emu:
        identity = emu.running.emulator.identity
        login = identity.login
        logins: list[None] = []
        another = threading.Event()

        def held_login(body: Any) -> Any:
            # The first login is held while the other threads reach theirs: a second one set
            # free at once fails the test; with none, the hold ends (a bound, not a timing).
            logins.append(None)
            if len(logins) > 1:
                another.set()
            else:
                another.wait(2)
            return login(body)

        monkeypatch.setattr(identity, "login", held_login)
        client = Client.from_env(
            {}, endpoint=emu.url, project_id=emu.project_id, username="emulator-user",
            password="emulator-password", domain="d", service="cbr",
            iam_endpoint=emu.url + "/v3",
        )  # fmt: skip
        start = threading.Barrier(THREADS)

        def first_use(_: int) -> int:
            start.wait(100)
            return len(list(client.backups(limit=2)))

        with client, ThreadPoolExecutor(THREADS) as pool:
            counts = list(pool.map(first_use, range(THREADS)))
        assert counts == [2] * THREADS
        assert len(emu.requests("POST", "/auth/tokens")) == 1
