"""The library as a user has it: the wheel alone (and pytest) in a fresh environment, a script
outside the repository that uses only public names, and mypy --strict on that script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_packaging import Dists, dists  # noqa: F401 (a fixture, built once per worker)

SCRIPT = '''"""A user's automation: only backupshare's public names, on CBR."""

from backupshare import (
    AlreadySharedError, ApplyReport, CancelReport, Client, NotFoundError, Plan, PlanRow,
    ReceiveReport, ShareReport, WaitTick,
)
from backupshare.testing import emulator

MISSING = "066b1e37-9305-4057-97e5-2e99b21fc71e"
DUPLICATE = '{"error_code": "BackupService.6703", "error_msg": "The backup has been shared."}'


def annotated(client: Client, sharings: str) -> tuple[ReceiveReport, CancelReport, ApplyReport]:
    """Never run: every report and record type a user annotates with, from `backupshare`."""
    ticks: list[WaitTick] = []
    client.wait_available("db-nightly", timeout=1, progress=ticks.append)
    plan: Plan = client.plan(text=sharings)
    rows: list[PlanRow] = plan.rows
    print(len(rows), len(ticks))
    return client.accept_all_pending(), client.cancel(backup_id="x"), client.apply(plan=plan)


def main() -> None:
    with emulator(service="cbr") as emu:
        client: Client = emu.client
        backup = client.backup("db-nightly")
        assert backup.id is not None
        report: ShareReport = client.share(backup, [emu.partner_project_id])
        print("share:", [r.result for r in report.results])
        print("listed:", [s.to_project_id for s in client.shares(backup_id=backup.id)])
        print("waited:", client.wait_available(backup, timeout=30, interval=0.1).status)
        offer = next(iter(emu.partner.offers()))
        print("accepted:", emu.partner.accept(offer).status)
        emu.fault("raw", method="POST", path="/members", status=400, body=DUPLICATE)
        try:
            client.share("web-weekly", [emu.partner_project_id], raise_on_failure=True)
        except AlreadySharedError as error:
            print("already shared:", error.service_code, error.status)
        try:
            client.backup(MISSING)
        except NotFoundError as error:
            print("not found:", error.status, error.service_code)
        ended = client.cancel(backup_id=backup.id, to_projects=[emu.partner_project_id])
        print("cancel:", [r.result for r in ended.results])
        print("left:", client.count_shares(backup_id=backup.id))


if __name__ == "__main__":
    main()
'''

EXPECTED = """\
share: ['created']
listed: ['722513ed0a324dadaabe5b2d0fe848c9']
waited: available
accepted: accepted
already shared: BackupService.6703 400
not found: 404 BackupService.6200
cancel: ['canceled']
left: 0
"""

FOREIGN_TEST = """
from backupshare import Client
from backupshare.testing import TestEmulator


def test_my_job(backupshare_emulator: TestEmulator) -> None:
    client: Client = backupshare_emulator.client
    assert client.share("db-nightly", [backupshare_emulator.partner_project_id]).changed
"""


@pytest.fixture(scope="session")
def library_bin(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """A fresh environment with the wheel and pytest, nothing of the checkout: its bin/."""
    venv = tmp_path_factory.mktemp("library-venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300
    )
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q",
         "--disable-pip-version-check", str(dists.wheel), "pytest"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin"


def outside(tmp_path: Path) -> dict[str, str]:
    """The environment of a user's shell: nothing pointing into this checkout or this run."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST", "COV_", "BACKUPSHARE_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)} | {"HOME": str(tmp_path)}


@pytest.mark.e2e
def test_a_script_outside_the_repository_uses_the_public_library(
    library_bin: Path, tmp_path: Path
) -> None:
    (tmp_path / "automation.py").write_text(SCRIPT)
    done = subprocess.run(
        [library_bin / "python", "automation.py"], cwd=tmp_path, env=outside(tmp_path),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == EXPECTED


@pytest.mark.e2e
def test_the_script_is_clean_under_mypy_strict_against_the_installed_wheel(
    library_bin: Path, tmp_path: Path
) -> None:
    (tmp_path / "automation.py").write_text(SCRIPT)
    (tmp_path / "test_foreign.py").write_text(FOREIGN_TEST)
    mypy = Path(sys.executable).parent / "mypy"
    done = subprocess.run(
        [mypy, "--strict", "--no-incremental", "--python-executable", library_bin / "python",
         "automation.py", "test_foreign.py"],
        cwd=tmp_path, env=outside(tmp_path), capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.e2e
def test_a_foreign_test_file_passes_with_the_wheel_alone(library_bin: Path, tmp_path: Path) -> None:
    (tmp_path / "test_foreign.py").write_text(FOREIGN_TEST)
    done = subprocess.run(
        [library_bin / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "test_foreign.py"],
        cwd=tmp_path, env=outside(tmp_path), capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
