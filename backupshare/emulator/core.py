"""One emulator: its configuration, its state, the credentials it accepts, its faults and log.

The HTTP server (server.py) wraps one of these; the route modules read and change it.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from .iam import Identity
from .schema import DISK_VAULT, MB_PER_GB, AutoAnswer, BackupSeed, VaultSeed, utc_now
from .seeding import PartnerVault, generate_backups
from .store import Store

REQUEST_LOG_SIZE = 10_000
DEFAULT_PROJECT = "c13f5220dc1949b0b741ea81a7cd5554"
OTHER_PROJECT = "722513ed0a324dadaabe5b2d0fe848c9"  # the partner: shares with us, and can accept
DEFAULT_TOKEN = "emulator-token"
DEFAULT_USER = ("emulator-user", "emulator-password")
DEFAULT_AKSK = ("EMULATORACCESSKEY000", "emulator-secret-key")
CREDENTIAL_KINDS = ("token", "user", "aksk")


@dataclass(frozen=True)
class ProjectCredential:
    """A credential of some project: a `token` (name = the token), a `user` (name, secret =
    password) or an `aksk` pair (name = AK, secret = SK)."""

    project_id: str
    kind: str
    name: str
    secret: str = ""

    def shown(self) -> str:
        """How the banner and --help write it (these are public test values)."""
        return f"{self.name}:{self.secret}" if self.secret else self.name


# The partner project's own credentials, so a demo or a test can act as the receiving project.
PARTNER_CREDENTIALS = (
    ProjectCredential(OTHER_PROJECT, "token", "partner-token"),
    ProjectCredential(OTHER_PROJECT, "user", "partner-user", "partner-password"),
    ProjectCredential(OTHER_PROJECT, "aksk", "PARTNERACCESSKEY0000", "partner-secret-key"),
)
DEMO_VOLUME = "9d2f7f3e-5b5c-4f0e-8d8e-1c2b3a4d5e6f"
# (seed, minutes before start-up it was made): the newest backup of the demo volume is still
# `creating`, so "the newest *available* one" is a real choice.
DEMO_BACKUPS: tuple[tuple[BackupSeed, int], ...] = (
    (
        BackupSeed(
            "066b1e37-9305-4057-97e5-2e99b21fc71d",
            DEFAULT_PROJECT,
            "db-nightly",
            size=40,
            volume_id=DEMO_VOLUME,
        ),
        120,
    ),
    (
        BackupSeed(
            "3a9e46f5-2b47-4c0e-9a1d-5f2f8c4e7b10",
            DEFAULT_PROJECT,
            "web-weekly",
            size=20,
            volume_id="4c3b2a19-0f8e-4d7c-9b6a-5e4d3c2b1a09",
        ),
        600,
    ),
    (
        BackupSeed(
            "8c2d1f40-6b3a-4e55-b7a0-1e9d2c3b4a50",
            DEFAULT_PROJECT,
            "logs-hourly",
            status="creating",
            size=5,
            volume_id=DEMO_VOLUME,
        ),
        5,
    ),
    (
        BackupSeed(
            "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
            DEFAULT_PROJECT,
            "vault-encrypted",
            size=10,
            encrypted=True,
            volume_id="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        ),
        300,
    ),
    (
        BackupSeed(
            "5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f",
            OTHER_PROJECT,
            "partner-golden-image",
            volume_id="7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b",
        ),
        1440,
    ),
)


@dataclass
class Fault:
    """One injected misbehaviour, for the next `count` matching requests.

    kinds: `status` (answer STATUS, Retry-After if given), `delay` (handle, then hold the answer
    SECONDS), `reset` (drop the connection with no answer), `commit_then_502` (handle, then
    answer 502), `truncated` (handle, then send half the body), `html` (a 200 portal page),
    `raw` (answer STATUS with BODY and CONTENT_TYPE, unhandled).
    """

    kind: str
    method: str | None = None
    path: str | None = None
    count: int = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    body: str = ""
    content_type: str = "application/json"

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path in path
        )


FAULT_KINDS = ("status", "delay", "reset", "commit_then_502", "truncated", "html", "raw")


@dataclass
class EmulatorConfig:
    """How the emulator is set up: who it is, what it holds, how it answers."""

    project_id: str = DEFAULT_PROJECT
    tokens: list[str] = field(default_factory=lambda: [DEFAULT_TOKEN])
    users: list[tuple[str, str]] = field(default_factory=lambda: [DEFAULT_USER])
    keys: list[tuple[str, str]] = field(default_factory=lambda: [DEFAULT_AKSK])
    # Other projects' credentials; None: the partner project's (PARTNER_CREDENTIALS).
    credentials: list[ProjectCredential] | None = None
    backups: list[BackupSeed] | None = None  # None: the demo backups
    max_targets: int = 10
    error_style: str = "vbs"
    latency_ms: int = 0
    failure_rate: float = 0.0
    page_cap: int | None = None
    token_ttl_seconds: int = 24 * 3600
    clock_skew_seconds: int = 0
    db: str = ":memory:"
    seed: int | None = None
    tls_cert: str | None = None  # PEM certificate (and key file) to serve https instead of http
    tls_key: str | None = None
    # Lets GET /_emulator/requests show the credentials it received, to a caller that sends it
    # in X-Emulator-Admin-Key; None: they are never shown over HTTP.
    admin_key: str | None = None
    # docs/wire.md (CBR) leaves open which code re-adding a member gets: BackupService.6714 or 6703.
    cbr_duplicate_code: str = "BackupService.6714"
    # Regions where only cloud-server backups can be shared refuse disk backups (6700).
    cbr_server_backups_only: bool = False
    # The emulator's clock for backups' times and their turning available, and for answers
    # given on a receiver's behalf; None: the real one.
    clock: Callable[[], datetime] | None = None
    # CBR vaults to make at start; a project given some has those alone (no default vault).
    vaults: list[VaultSeed] = field(default_factory=list)
    # Offers answered on the receiving project's behalf: (project or None for every project,
    # the answer and its delay).
    auto_answers: list[tuple[str | None, AutoAnswer]] = field(default_factory=list)
    # Generate this many backups of the own project (seeding.generate_backups) with this seed.
    seed_backups: int = 0
    random_seed: int = 0

    def other_credentials(self) -> list[ProjectCredential]:
        return list(PARTNER_CREDENTIALS) if self.credentials is None else self.credentials


class Emulator:
    """State and behaviour of one emulator instance (the HTTP server wraps it)."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = config.clock or utc_now
        self.store = Store(config.db, max_targets=config.max_targets, clock=self.clock)
        self.identity = Identity(
            config.project_id,
            token_ttl=timedelta(seconds=config.token_ttl_seconds),
            clock_skew=timedelta(seconds=config.clock_skew_seconds),
        )
        for token in config.tokens:
            self.identity.add_token(token)
        for name, password in config.users:
            self.identity.add_user(name, password)
        for access, secret in config.keys:
            self.identity.add_key(access, secret)
        for credential in config.other_credentials():
            self._add_credential(credential)
        for vault in config.vaults:
            self.store.add_vault(vault)
        for project, answer in config.auto_answers:
            self.store.set_auto_answer(project, answer)
        # what seeding had to change to keep CBR's rules (a vault grown), for the banner
        self.notes: list[str] = []
        if not self.store.backups(config.project_id):  # a --db file keeps its own state
            self._seed(config)
            if config.seed_backups:
                self.generate_backups(config.seed_backups, config.random_seed)
            self.notes += self.store.grow_to_hold()
        self.faults: list[Fault] = []
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self._lock = threading.Lock()
        self._random = random.Random(config.seed)

    def _add_credential(self, credential: ProjectCredential) -> None:
        project = credential.project_id
        if credential.kind == "token":
            self.identity.add_token(credential.name, project)
        elif credential.kind == "user":
            self.identity.add_user(credential.name, credential.secret, project)
        elif credential.kind == "aksk":
            self.identity.add_key(credential.name, credential.secret, project)
        else:
            raise ValueError(f"unknown credential kind {credential.kind!r}")

    def _seed(self, config: EmulatorConfig) -> None:
        if config.backups is not None:
            for seed in config.backups:
                self.store.add_backup(seed)
            return
        now = self.clock()
        for seed, minutes in DEMO_BACKUPS:
            owner = config.project_id if seed.project_id == DEFAULT_PROJECT else seed.project_id
            made = now - timedelta(minutes=minutes)
            self.store.add_backup(replace(seed, project_id=owner, created_at=made))
        # A partner's backup shared with us, so that `list-shares --shared-with-me` shows one
        # on VBS, and an open CBR offer that we can accept.
        partner = DEMO_BACKUPS[-1][0]
        self.store.share(partner.project_id, partner.id, [config.project_id])
        self.store.add_members(partner.project_id, partner.id, [config.project_id])

    def projects(self) -> list[str]:
        """Every project the emulator holds credentials of, its own first."""
        return self.identity.projects()

    def _room_to_accept(self, project_id: str) -> PartnerVault:
        """Half the free room of the project's home vault: what generated offers it accepted
        may take, so that a test can still accept into it."""
        home = self.store.vault(project_id)
        free = home["size"] * MB_PER_GB - home["used"]
        return PartnerVault(home["id"], max(0, free // 2))

    def generate_backups(self, count: int, random_seed: int = 0) -> int:
        """`count` backups of the own project, spread over volumes, its disk vaults and dates,
        some shared with the other projects (seeding.generate_backups): the same ones for the
        same count, seed and clock."""
        owner = self.config.project_id
        vaults = [v["id"] for v in self.store.vaults(owner) if v["object_type"] == DISK_VAULT]
        partners = {p: self._room_to_accept(p) for p in self.projects() if p != owner}
        made = generate_backups(count, random_seed, owner, vaults, partners, self.clock())
        self.store.add_many(made.backups, made.shares, made.members)
        self.notes += self.store.grow_to_hold()
        return len(made.backups)

    def add_fault(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        with self._lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        if path.startswith("/_emulator"):
            return None
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
            if self.config.failure_rate and self._random.random() < self.config.failure_rate:
                return Fault("status", status=503)
        return None

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def logged(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Requests received (admin calls excluded), optionally by method and path substring."""
        with self._lock:
            entries = list(self.requests)
        return [
            entry
            for entry in entries
            if (method is None or entry["method"] == method)
            and (path is None or path in entry["path"])
        ]

    def seed_shares(self, count: int, project_id: str | None = None) -> int:
        """Creates `count` sharings (and the backups they need) for benchmarks and demos."""
        owner = project_id or self.config.project_id
        per_backup = max(1, self.config.max_targets)
        made = 0
        while made < count:
            backup = BackupSeed(str(uuid.uuid4()), owner, f"bulk-{made // per_backup:06d}")
            self.store.add_backup(backup)
            batch = min(per_backup, count - made)
            targets = [uuid.uuid4().hex for _ in range(batch)]
            self.store.share(owner, backup.id, targets)
            made += batch
        return made
