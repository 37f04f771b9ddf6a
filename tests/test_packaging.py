"""The project as a package: which warnings may pass, the wheel and the sdist it builds, the wheel
installed into a fresh environment, and the README's CI recipes run against the emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import warnings
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import pytest

from backupshare import __version__
from backupshare.emulator import RunningEmulator
from backupshare.emulator.core import DEMO_VOLUME
from backupshare.emulator.server import DEFAULT_AKSK

from .helpers import (
    BACKUP,
    OWN,
    P1,
    P2,
    ROOT,
    checkout_files,
    copy_checkout,
    readme_block,
    terminated,
)

UTCNOW = "datetime.datetime.utcnow() is deprecated and scheduled for removal"


# -- warnings --------------------------------------------------------------------------------------
def test_only_named_third_party_warnings_are_silenced(pytestconfig: pytest.Config) -> None:
    first, *ignored = pytestconfig.getini("filterwarnings")
    assert first == "error"
    for entry in ignored:
        action, message, category, module = entry.split(":")
        assert action == "ignore" and message and category  # a named warning, never a blanket
        assert module and not module.startswith(("backupshare", "tests"))  # never our own


def test_our_deprecated_calls_fail_and_the_sdks_do_not() -> None:
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit(UTCNOW, DeprecationWarning, "auth.py", 1, module="backupshare.auth")
    with warnings.catch_warnings(record=True) as seen:  # the filters in force, and a record
        warnings.warn_explicit(
            UTCNOW, DeprecationWarning, "signer.py", 1, module="huaweicloudsdkcore.signer.signer"
        )
    assert seen == []


# -- the wheel and the sdist -----------------------------------------------------------------------
@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """Built once: the sdist from a copy of the checkout, then the wheel from the sdist (as `build`
    does). A copy, as a fresh clone has it: the build writes beside its sources, where other tests
    read the checkout (the quick start copies it), and a stale egg-info there would add its list."""
    out = tmp_path_factory.mktemp("dist")
    source = copy_checkout(tmp_path_factory.mktemp("source"))
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    return Dists(wheel, sdist)


@pytest.fixture(scope="session")
def installed(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel (and its dependencies from the index): its bin/.

    It gets no pip of its own (installing one takes seconds): this run's pip installs into it
    (`--python`), so it holds the wheel, its dependencies and nothing else."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300
    )
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q",
         "--disable-pip-version-check", str(dists.wheel)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin"


@pytest.mark.e2e
def test_the_wheel_holds_the_package_and_the_sdist_the_whole_tree(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = wheel.namelist()
        metadata = Parser().parsestr(
            wheel.read(f"backupshare-{__version__}.dist-info/METADATA").decode()
        )
        entry_points = wheel.read(f"backupshare-{__version__}.dist-info/entry_points.txt").decode()
    package = sorted(n for n in names if not n.startswith(f"backupshare-{__version__}.dist-info/"))
    assert package == sorted(n for n in checkout_files() if n.startswith("backupshare/"))
    assert "backupshare = backupshare.cli:main" in entry_points
    assert metadata["Requires-Python"] == ">=3.10"
    minors = [
        int(c.rsplit(".", 1)[1])
        for c in metadata.get_all("Classifier")
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    assert minors == list(range(10, 14))  # every Python requires-python admits that CI tests

    with tarfile.open(dists.sdist) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if m.isfile()}
    generated = {"PKG-INFO", "setup.cfg"} | {m for m in members if ".egg-info/" in m}
    assert members - generated == set(checkout_files())  # what its tests read comes with it


@pytest.mark.e2e
def test_the_installed_wheel_runs_the_emulator_and_a_share(installed: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(*argv: str | Path, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in argv], cwd=tmp_path, env={**env, **extra},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    where = run(installed / "python", "-c", "import backupshare; print(backupshare.__file__)")
    assert where.stdout.startswith(str(installed.parent / "lib"))  # the wheel, not the checkout
    assert run(installed / "backupshare", "--version").stdout == f"backupshare {__version__}\n"
    details = run(installed / "backupshare", "--version", "--verbose").stdout
    assert f"python    {sys.version_info.major}.{sys.version_info.minor}." in details
    assert str(installed / "python") in details
    shown = run(installed / "backupshare", "--help")
    assert shown.returncode == 0 and "Usage: backupshare" in shown.stdout

    server = subprocess.Popen(
        [installed / "backupshare", "emulator", "--port", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner)
        assert match, f"the installed emulator did not start: {banner!r}"
        shared = run(
            installed / "backupshare", "share", BACKUP, P1, "-o", "json",
            BACKUPSHARE_ENDPOINT=match.group(1), BACKUPSHARE_PROJECT_ID=OWN,
            BACKUPSHARE_TOKEN="emulator-token",
        )  # fmt: skip
        assert shared.returncode == 0, shared.stderr
        [result] = json.loads(shared.stdout)["results"]
        assert (result["to_project_id"], result["result"]) == (P1, "created")
    finally:
        terminated(server)


# -- the README's CI recipes -----------------------------------------------------------------------
# What a pipeline has around a recipe: GitHub's secrets and vars, GitLab's CI/CD variables, here
# pointing at the emulator. BACKUPSHARE_ENDPOINT and _PROJECT_ID, which the recipes set, are redirected.
# The volume is the emulator's demo volume: its newest backup is still creating, and BACKUP is the
# newest available one, which the recipes' --most-recent must choose.
AK, SK = DEFAULT_AKSK
GITHUB_EXPRESSIONS = {
    "secrets.OTC_AK": AK,
    "secrets.OTC_SK": SK,
    "vars.DB_VOLUME_ID": DEMO_VOLUME,
}
GITLAB_VARIABLES = {
    "BACKUPSHARE_ACCESS_KEY": AK,
    "BACKUPSHARE_SECRET_KEY": SK,
    "VOLUME_ID": DEMO_VOLUME,
    "STAGING_PROJECT": P1,
}
STAGING_PROJECTS = [P1, P2]

# The recipe's install step, run where the wheel is installed already: it must name this checkout
# by path (an index has no backupshare), and then has nothing left to do.
PIP_STAND_IN = f"""#!/bin/sh
if [ "$#" -eq 2 ] && [ "$1" = install ] && case "$2" in */*) true;; *) false;; esac \\
   && [ "$(cd "$2" 2>/dev/null && pwd -P)" = "{ROOT}" ]; then
  exit 0
fi
echo "the recipe runs 'pip $*', which does not install this checkout" >&2
exit 1
"""


def recipe_script(kind: str, block: str) -> tuple[dict[str, str], list[str]]:
    """The environment and shell lines of a README recipe, as its CI would run them."""
    import yaml

    document = yaml.safe_load(block)
    if kind == "github":
        [checkout] = [s for s in document if "repository" in s.get("with", {})]
        assert checkout["uses"].startswith("actions/checkout@")
        assert checkout["with"]["path"] == "backupshare"  # where the test puts this checkout
        runs = [step for step in document if "run" in step]
        env = {k: str(v) for step in runs for k, v in step.get("env", {}).items()}

        def expression(match: re.Match[str]) -> str:
            return GITHUB_EXPRESSIONS[match.group(1)]  # a secret the test does not know fails

        env = {k: re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", expression, v) for k, v in env.items()}
        return env, [step["run"] for step in runs]
    [job] = document.values()
    variables = {k: str(v) for k, v in job.get("variables", {}).items()}
    strategy = variables.get("GIT_SUBMODULE_STRATEGY")
    assert strategy in ("normal", "recursive"), "without it GitLab checks out no backupshare/"
    return {**GITLAB_VARIABLES, **variables}, [*job.get("before_script", []), *job["script"]]


def run_recipe(
    kind: str, block: str, url: str, work: Path, installed: Path
) -> subprocess.CompletedProcess[str]:
    env, lines = recipe_script(kind, block)
    for name, value in (("BACKUPSHARE_ENDPOINT", url), ("BACKUPSHARE_PROJECT_ID", OWN)):
        if name in env:  # only where the recipe sets it: a recipe without it must fail
            env[name] = value
    (work / "backupshare").symlink_to(ROOT)  # the checkout (GitHub) or submodule (GitLab)
    (work / "staging-projects.txt").write_text("".join(f"{p}\n" for p in STAGING_PROJECTS))
    stand_in = work.parent / f"{work.name}-bin"
    stand_in.mkdir()
    (stand_in / "pip").write_text(PIP_STAND_IN)
    (stand_in / "pip").chmod(0o755)
    path = os.pathsep.join([str(stand_in), str(installed), os.environ["PATH"]])
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + "\n".join(lines)],
        cwd=work, env={**os.environ, **env, "PATH": path},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_the_readmes_ci_recipes_run_as_written(
    kind: str, installed: Path, emulator: RunningEmulator, tmp_path: Path
) -> None:
    done = run_recipe(kind, readme_block(f"ci:{kind}"), emulator.url, tmp_path, installed)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "share.json").read_text())["results"]
    expected = STAGING_PROJECTS if kind == "github" else [P1]
    assert [(r["backup_id"], r["to_project_id"], r["result"]) for r in results] == [
        (BACKUP, p, "created") for p in expected
    ]
    [post] = emulator.logged("POST")
    assert post["headers"]["Authorization"].startswith(f"SDK-HMAC-SHA256 Access={AK}")


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("right", "wrong", "says"),
    [
        ("pip install ./backupshare", "pip install backupshare", "does not install this checkout"),
        ("BACKUPSHARE_PROJECT_ID:", "BACKUPSHARE_PROJECT:", "error: "),
        ('"$VOLUME_ID"', '"$DB_VOLUME_ID"', "DB_VOLUME_ID: unbound variable"),
    ],
)
def test_a_wrong_recipe_fails(
    right: str, wrong: str, says: str, installed: Path, emulator: RunningEmulator, tmp_path: Path
) -> None:
    block = readme_block("ci:github")
    assert right in block
    done = run_recipe("github", block.replace(right, wrong), emulator.url, tmp_path, installed)
    assert done.returncode != 0 and says in done.stderr
    assert emulator.logged("POST") == []


@pytest.mark.e2e
def test_the_installed_wheel_shows_the_reference_topics_offline(
    installed: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(installed / "backupshare"), "help", "exit-codes"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (ROOT / "docs" / "exit-codes.md").read_text()
