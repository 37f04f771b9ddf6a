"""share's run function without the CLI (verbs/share.run_share): the matrix of --most-recent, --wait
and --dry-run against the emulator, its time driven by the test (no real wait)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from backupshare.errors import RejectedError, UsageError
from backupshare.vbs import Vbs
from backupshare.verbs.share import BackupChoice, ShareRequest, run_share
from backupshare.verbs.wait import Timing

from .helpers import OWN, P1, P2, FakeTime, seeded, token_settings

VOLUME = "9d2f7f3e-5b5c-4f0e-8d8e-1c2b3a4d5e6f"
OLD = seeded(1, created_at=datetime.now(timezone.utc) - timedelta(hours=2))
NEW = seeded(2, created_at=datetime.now(timezone.utc) - timedelta(minutes=1), available_after=45)


def run(make_emulator: Any, request: ShareRequest) -> tuple[Any, list[Any], list[float]]:
    """Runs the request on a volume with an older available backup and a newer one that turns
    available 45 s (emulator time) after start; returns the outcome, the POSTs and the waits."""
    fake = FakeTime()
    running = make_emulator(backups=[OLD, NEW], clock=fake.clock)
    with Vbs.connect(token_settings(running.url), sleep=lambda seconds: None) as api:
        outcome = run_share(
            api,
            request,
            timing=Timing(fake.sleep, lambda: fake.now.timestamp(), lambda: 0.5),
        )
    return outcome, running.logged("POST"), fake.slept


def request(*, most_recent: bool, wait: float | None, dry_run: bool) -> ShareRequest:
    choice = (
        BackupChoice(None, None, VOLUME, [P1])
        if most_recent
        else BackupChoice(NEW.id, None, None, [P1])
    )
    return ShareRequest(choice, [P1], wait=wait, dry_run=dry_run)


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize(
    ("most_recent", "wait", "chosen"),
    [
        (True, None, OLD.id),  # the newest *available* backup of the volume
        (True, 120.0, NEW.id),  # the newest, still being made: waited for
        (False, 120.0, NEW.id),  # the backup by id, waited for
    ],
)
def test_the_matrix_shares_or_plans_the_chosen_backup(
    make_emulator: Any, most_recent: bool, wait: float | None, chosen: str, dry_run: bool
) -> None:
    wanted = request(most_recent=most_recent, wait=wait, dry_run=dry_run)
    outcome, posted, slept = run(make_emulator, wanted)
    assert [(r.backup_id, r.to_project_id, r.result) for r in outcome.results] == [
        (chosen, P1, "created")
    ]
    assert len(posted) == (0 if dry_run else 1)
    if dry_run:
        assert outcome.request is not None and chosen in outcome.request
    assert (sum(slept) >= 45) == (wait is not None and chosen == NEW.id)


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_backup_still_being_made_is_refused_without_wait(
    make_emulator: Any, dry_run: bool
) -> None:
    # a dry run refuses what the real run would (before any POST); the real run is refused
    # by the service itself
    with pytest.raises(RejectedError, match="only available backups"):
        run(make_emulator, request(most_recent=False, wait=None, dry_run=dry_run))


def test_the_own_project_and_too_many_targets_are_refused_before_any_request(
    make_emulator: Any,
) -> None:
    fake = FakeTime()
    running = make_emulator(backups=[OLD], clock=fake.clock)
    with Vbs.connect(token_settings(running.url)) as api:
        own = ShareRequest(BackupChoice(OLD.id, None, None, []), [P1, OWN])
        with pytest.raises(UsageError, match="the profile's own project"):
            run_share(api, own)
        many = [f"{n:032x}" for n in range(1, 12)]
        with pytest.raises(UsageError, match="at most 10 projects"):
            run_share(api, ShareRequest(BackupChoice(OLD.id, None, None, []), [P2, *many]))
    assert running.logged() == []
