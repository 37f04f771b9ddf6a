"""Every console sample in the README and docs/ that shows a command's output is that command's
real output (issue #24 point 6): the samples run, in order, against one emulator, and what each
printed is compared with what the page shows — ids that the emulator makes anew each run, times,
request ids, ports and the home folder aside. So a change that alters an output cannot leave a
sample stale.

To rewrite the samples from real runs after a deliberate change:

    BACKUPSHARE_REGENERATE_SAMPLES=1 .venv/bin/pytest -n0 --no-cov tests/test_samples.py

A sample is a ```console block. Its commands start with `$ `; a line ending in `\\` continues on
the next. A command with no output under it is an example of how to type something and is not
run (it may wait, pipe or print a long record); `echo $?` prints the exit code of the command
before it. A block's setup, when it needs one the page does not show, is in SETUPS below.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.emulator.server import DEFAULT_PROJECT, DEFAULT_TOKEN

from .helpers import BACKUP, BACKUP2, BIN, CREATING, ENCRYPTED, PARTNER_BACKUP, ROOT

pytestmark = pytest.mark.e2e
PAGES = ("README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")))
BLOCK_RE = re.compile(r"(```console\n)(.*?)(```)", re.S)
SHOWN_HOME = "/home/me"
SHOWN_PORT = "8776"
# Ids the emulator seeds the same every run: kept as they are when comparing.
FIXED_IDS = {BACKUP, BACKUP2, CREATING, ENCRYPTED, PARTNER_BACKUP}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass
class Command:
    line: str  # as shown, without `$ `, continuation lines joined
    shown: list[str] = field(default_factory=list)  # the output under it

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.line.replace("\\\n", " "), comments=True)


@dataclass
class Sample:
    page: str
    heading: str
    start: int  # the block's text: page_text[start:end]
    end: int
    commands: list[Command]


def parse_block(text: str) -> list[Command]:
    commands: list[Command] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\") and index + 1 < len(lines):
                index += 1
                command += "\n" + lines[index]
            commands.append(Command(command))
        elif commands:
            commands[-1].shown.append(line)
        index += 1
    return commands


def samples() -> Iterator[Sample]:
    for page in PAGES:
        text = (ROOT / page).read_text()
        for match in BLOCK_RE.finditer(text):
            headings = re.findall(r"^#+ (.+)$", text[: match.start()], re.M)
            yield Sample(
                page,
                headings[-1] if headings else "",
                match.start(2),
                match.end(2),
                parse_block(match.group(2)),
            )


# -- running them ---------------------------------------------------------------------------------
@dataclass
class Session:
    """One emulator and one home for every sample, in page order (state carries over)."""

    emulator: RunningEmulator
    home: Path
    env: dict[str, str]
    last_code: int = 0

    def run(self, command: Command) -> list[str]:
        if command.line.strip() == "echo $?":
            return [str(self.last_code)]
        argv = command.argv
        assert argv[0] == "backupshare" and "|" not in argv, command.line
        done = subprocess.run(
            [str(BIN), *argv[1:]], env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, timeout=120, check=False,
        )  # fmt: skip
        self.last_code = done.returncode
        return self.shown(done.stdout).splitlines()

    def shown(self, text: str) -> str:
        """As a reader would see it on the page: their home and the usual port."""
        text = text.replace(str(self.home), SHOWN_HOME)
        port = self.emulator.url.rsplit(":", 1)[1]
        return text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{SHOWN_PORT}")


def with_local_profile(session: Session) -> None:
    """`-p local doctor`: a profile for the emulator, credentials from the file alone."""
    config = session.home / ".config" / "backupshare" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "profiles:\n"
        f"  local: {{endpoint: '{session.emulator.url}', project_id: {DEFAULT_PROJECT},"
        f" auth: {{method: token, token: {DEFAULT_TOKEN}}}}}\n"
    )
    config.chmod(0o600)
    session.env = {k: v for k, v in session.env.items() if not k.startswith("BACKUPSHARE_")}
    session.env["PROD_SK"] = "not-a-real-secret"


# A block's setup the page does not show, by its heading.
SETUPS: dict[str, Callable[[Session], None]] = {"Set up and check a profile": with_local_profile}


# -- comparing ------------------------------------------------------------------------------------
def normalized(lines: list[str]) -> list[str]:
    """Lines with what differs from run to run replaced: ids made by the emulator (each the
    same placeholder wherever it recurs), times, request ids, durations, clock skew."""
    names: dict[str, str] = {}

    def name_id(match: re.Match[str]) -> str:
        found = match.group(0)
        if found in FIXED_IDS:
            return found
        return names.setdefault(found, f"<id{len(names) + 1}>")

    out = []
    for line in lines:
        line = re.sub(r"(client request id) " + UUID, r"\1 <rid>", line)
        line = re.sub(r"(request id) [0-9a-f]{32}", r"\1 <rid>", line)
        line = re.sub(UUID, name_id, line)
        line = re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?", "<time>", line)
        line = re.sub(r"in \d+ ms", "in <n> ms", line)
        line = re.sub(r"clock is \d+ s (ahead of|behind)", "clock is <n> s <side>", line)
        out.append(line.rstrip())
    # a table's column widths follow its widest cell, which a placeholder changes
    return [re.sub(r" {2,}", "  ", line) for line in out]


def new_ids(shown: list[str], actual: list[str]) -> dict[str, str]:
    """Which id of this run stands where the page showed another (line by line, in order), so
    the examples after a regenerated sample name the ids it now shows."""
    if len(shown) != len(actual):
        return {}
    pairs = {}
    for old_line, new_line in zip(shown, actual, strict=True):
        olds, news = re.findall(UUID, old_line), re.findall(UUID, new_line)
        if len(olds) == len(news):
            pairs.update((o, n) for o, n in zip(olds, news, strict=True) if o not in FIXED_IDS)
    return pairs


def renamed_ids(line: str, renamed: dict[str, str]) -> str:
    return re.sub(UUID, lambda m: renamed.get(m.group(0), m.group(0)), line)


def same_output(actual: list[str], shown: list[str]) -> bool:
    """The same lines, but for what differs from run to run; rows made in the same second may
    come in either order (the service orders by time, then by a random id)."""
    if normalized(actual) == normalized(shown):
        return True
    anonymous = [re.sub(r"<id\d+>", "<id>", line) for line in normalized(actual)]
    expected = [re.sub(r"<id\d+>", "<id>", line) for line in normalized(shown)]
    return sorted(anonymous) == sorted(expected)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    home = tmp_path_factory.mktemp("home")
    with start(EmulatorConfig()) as running:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BACKUPSHARE_", "HUAWEICLOUD_SDK_"))
        }
        env.update(
            HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"), NO_COLOR="1", COLUMNS="200",
            BACKUPSHARE_ENDPOINT=running.url, BACKUPSHARE_PROJECT_ID=DEFAULT_PROJECT,
            BACKUPSHARE_TOKEN=DEFAULT_TOKEN,
        )  # fmt: skip
        yield Session(running, home, env)


REGENERATE = os.environ.get("BACKUPSHARE_REGENERATE_SAMPLES") == "1"


def test_the_samples_are_found() -> None:
    found = list(samples())
    assert len(found) >= 6  # not vacuous: the README's usage sections
    shown = [c for s in found for c in s.commands if c.shown]
    assert len(shown) >= 10


def test_every_console_sample_is_real_output(session: Session) -> None:
    stale = []
    texts = {page: (ROOT / page).read_text() for page in PAGES}
    rewritten: dict[str, list[tuple[int, int, str]]] = {page: [] for page in PAGES}
    renamed: dict[str, str] = {}  # an id shown before → the one this run made in its place
    for sample in samples():
        setup = SETUPS.get(sample.heading)
        if setup is not None:
            setup(session)
        block = []
        for command in sample.commands:
            block.append(f"$ {renamed_ids(command.line, renamed)}")
            if not command.shown:
                continue  # an example of typing it, not a sample of its output
            actual = session.run(command)
            block.extend(actual)
            renamed.update(new_ids(command.shown, actual))
            if not same_output(actual, command.shown):
                stale.append(
                    f"{sample.page} ({sample.heading}): $ {command.line}\n  shown:\n    "
                    + "\n    ".join(command.shown)
                    + "\n  real:\n    "
                    + "\n    ".join(actual)
                )
        rewritten[sample.page].append((sample.start, sample.end, "\n".join(block) + "\n"))
    if REGENERATE:
        for page, blocks in rewritten.items():
            text = texts[page]
            for start_at, end_at, new in reversed(blocks):
                text = text[:start_at] + new + text[end_at:]
            (ROOT / page).write_text(text)
        return
    assert not stale, "stale samples (BACKUPSHARE_REGENERATE_SAMPLES=1 rewrites them):\n" + (
        "\n".join(stale)
    )
