"""The bundled emulator for your own tests, the way moto serves AWS users (docs/library.md).

    from backupshare.testing import emulator

    with emulator(service="cbr") as emu:
        emu.client.share(emu.backups[0], [emu.partner_project_id])

`emulator(**options)` starts the emulator of VBS and CBR (backupshare/emulator) on a free
loopback port in a thread, and stops it on leaving. The pytest plugin (pytest_plugin.py,
registered as a `pytest11` entry point) gives the same as the `backupshare_emulator` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from .api import Client
    from .emulator import RunningEmulator

__all__ = ["BACKUP_IDS", "TestEmulator", "emulator"]

# The emulator's demo backups, by name: the ids are fixed (docs/emulator.md).
BACKUP_IDS = {
    "db-nightly": "066b1e37-9305-4057-97e5-2e99b21fc71d",  # available
    "web-weekly": "3a9e46f5-2b47-4c0e-9a1d-5f2f8c4e7b10",  # available
    "logs-hourly": "8c2d1f40-6b3a-4e55-b7a0-1e9d2c3b4a50",  # creating
    "vault-encrypted": "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",  # encrypted
}


@dataclass
class TestEmulator:
    """A running emulator: where it is, who may call it, a ready Client (the owning project,
    on `service`), a Client for the partner project (the receiving side), and its request log.
    """

    __test__ = False  # not a test class, whatever pytest thinks of its name

    url: str
    service: str
    project_id: str  # the owning project: its backups are the demo ones
    token: str
    partner_project_id: str  # another project: shares with us, and receives (accepts, rejects)
    partner_token: str
    running: RunningEmulator = field(repr=False)
    _clients: ExitStack = field(default_factory=ExitStack, repr=False)
    _client: Client | None = field(default=None, repr=False)
    _partner: Client | None = field(default=None, repr=False)

    @property
    def client(self) -> Client:
        """A Client of the owning project on `service`, made on first use, closed on exit."""
        if self._client is None:
            self._client = self.client_for(self.project_id)
        return self._client

    def client_for(self, project_id: str, *, service: str | None = None) -> Client:
        """A Client acting as one of the emulator's projects (the owner or the partner),
        closed when the emulator stops. Only the arguments given here are its settings: the
        environment and config files of the machine running the tests are ignored."""
        from .api import Client

        tokens = {self.project_id: self.token, self.partner_project_id: self.partner_token}
        if project_id not in tokens:
            raise UsageError(
                f"the emulator has no credentials of project {project_id!r}",
                hint=f"its projects: {', '.join(tokens)}",
            )
        client = Client.from_env(
            {}, endpoint=self.url, project_id=project_id, token=tokens[project_id],
            service=service or self.service,
        )  # fmt: skip
        self._clients.callback(client.close)
        return client

    @property
    def partner(self) -> Client:
        """A Client of the partner project (on `service`): the one that accepts on CBR."""
        if self._partner is None:
            self._partner = self.client_for(self.partner_project_id)
        return self._partner

    @property
    def backups(self) -> list[str]:
        """The ids of the owning project's demo backups that can be shared."""
        return [BACKUP_IDS["db-nightly"], BACKUP_IDS["web-weekly"]]

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """The requests the emulator received (method, path, query, headers, body; credentials
        redacted), optionally those of one method and with `path` in their path."""
        return self.running.emulator.logged(method, path)

    def clear_requests(self) -> None:
        self.running.emulator.clear_log()

    def fault(self, kind: str = "status", **options: Any) -> None:
        """Misbehaves for the next matching requests (docs/emulator.md, faults): `kind` is
        status, delay, reset, commit_then_502, truncated, html or raw; `options` are
        `method`, `path` (a part of it), `count`, `status`, `retry_after`, `seconds`, `body`,
        `content_type`."""
        from .emulator import Fault
        from .emulator.core import FAULT_KINDS

        known = [f.name for f in fields(Fault) if f.name != "kind"]
        unknown = [name for name in options if name not in known]
        if kind not in FAULT_KINDS or unknown:
            raise UsageError(
                f"invalid fault {kind!r} {unknown}: kinds are {', '.join(FAULT_KINDS)}; "
                f"options are {', '.join(known)}"
            )
        self.running.emulator.add_fault(Fault(kind, **options))


@contextmanager
def emulator(*, service: str = "vbs", **options: Any) -> Iterator[TestEmulator]:
    """Starts the emulator on a free loopback port, in a thread, for the `with` block.
    `service`: `vbs` or `cbr`, the service of `emu.client`. `options`: the emulator's settings
    (EmulatorConfig: `backups`, `max_targets`, `error_style`, `latency_ms`, …)."""
    from .emulator import EmulatorConfig, start
    from .emulator.core import OTHER_PROJECT, PARTNER_CREDENTIALS

    if service not in ("vbs", "cbr"):
        raise UsageError(f"invalid service {service!r}: choose one of vbs, cbr")
    known = [f.name for f in fields(EmulatorConfig)]
    unknown = [name for name in options if name not in known]
    if unknown:
        raise UsageError(
            f"unknown emulator option {unknown[0]!r}: the options are {', '.join(known)}"
        )
    config = EmulatorConfig(**options)
    partner_token = next(
        c.name for c in PARTNER_CREDENTIALS if c.kind == "token" and c.project_id == OTHER_PROJECT
    )
    with start(config) as running, ExitStack() as clients:
        yield TestEmulator(
            url=running.url, service=service, project_id=running.project_id,
            token=config.tokens[0] if config.tokens else "", partner_project_id=OTHER_PROJECT,
            partner_token=partner_token, running=running, _clients=clients,
        )  # fmt: skip
