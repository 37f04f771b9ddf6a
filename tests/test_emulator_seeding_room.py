"""Seeding keeps the emulator's own capacity rule (review of #23): no vault holds more than its
size, whatever was seeded — an overfilled vault is grown, and the emulator says so."""

from __future__ import annotations

from backupshare.emulator import EmulatorConfig, start
from backupshare.emulator.core import OTHER_PROJECT, Emulator
from backupshare.emulator.schema import MB_PER_GB
from backupshare.emulator.seeding import parse_vault_option


def overfilled(emulator: Emulator) -> list[str]:
    return [
        f"{vault['name']}: {vault['used']} MB used of {vault['size']} GB"
        for project in emulator.projects()
        for vault in emulator.store.vaults(project)
        if vault["used"] > vault["size"] * MB_PER_GB
    ]


def test_generated_backups_fit_their_vaults() -> None:
    with start(EmulatorConfig(seed_backups=60)) as running:
        emulator = running.emulator
        assert overfilled(emulator) == []
        [note] = emulator.notes  # 60 backups (≈2.6 TB) do not fit the default 1000 GB vault
        assert note.startswith(f"vault vault-{running.project_id[:8]} of project ")
        assert " grown from 1000 GB to " in note
        before = len(emulator.notes)
        emulator.generate_backups(60, random_seed=1)  # at run time too (POST /_emulator/seed)
        assert overfilled(emulator) == [] and len(emulator.notes) == before + 1


def test_a_vault_given_too_small_for_its_project_s_demo_backup_is_grown_to_hold_it() -> None:
    tiny = parse_vault_option(f"project={OTHER_PROJECT}:name=tiny:size=1", OTHER_PROJECT)
    with start(EmulatorConfig(vaults=tiny)) as running:
        emulator = running.emulator
        assert overfilled(emulator) == []
        [vault] = emulator.store.vaults(OTHER_PROJECT)
        assert (vault["size"], vault["used"]) == (10, 10 * MB_PER_GB)  # full: nothing else fits
        assert emulator.notes == [
            f"vault tiny of project {OTHER_PROJECT} grown from 1 GB to 10 GB to hold the "
            "backups seeded in it"
        ]


def test_the_demo_seeding_grows_nothing() -> None:
    with start(EmulatorConfig()) as running:
        assert running.emulator.notes == []
        assert overfilled(running.emulator) == []
