"""`python benchmarks/run.py --compare REF`: this tree's HEAD and REF (a git ref, e.g. 228c422),
each built into a temporary venv from `git archive` with pip, run ALTERNATELY against one
emulator per case, beside a floor script per command (the same imports, config read and HTTP
requests as the command, no more). Prints, and writes into benchmarks/README.md, each command's
median with its spread, its ratios to REF and to the floor, and the requests each one sent
(counted in the emulator's request log).

Alternation is what makes the ratios mean something on a loaded machine: each round runs every
variant once, in a rotating order, so a burst of load lands on all of them; the ratios are the
median of the per-round ratios (the interquartile range beside them). Nothing here is a test.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "c13f5220dc1949b0b741ea81a7cd5554"
TOKEN = "emulator-token"

# -- the floors: what any CLI on this stack pays to do the same work -----------------------------
# Each reads the same config file and sends the same requests as the command, and no more.
FLOOR_PREAMBLE = """
import json, sys
import typer, yaml, requests
with open(sys.argv[1], encoding="utf-8") as config_file:
    config = yaml.safe_load(config_file)
profile = config["profiles"][config["default_profile"]]
base = profile["endpoint"] + "/v2/" + profile["project_id"]
session = requests.Session()
session.headers["X-Auth-Token"] = profile["auth"]["token"]


def pages(url, params):
    offset = 0
    while True:
        body = session.get(url, params={**params, "limit": "100", "offset": str(offset)}, timeout=30)
        records = body.json()
        records = records["shared"] if "shared" in records else records["backups"]
        if not records:
            return
        yield records
        offset += len(records)
"""

FLOOR_SHARE = (
    FLOOR_PREAMBLE
    + """
backup, project = sys.argv[2], sys.argv[3]
sharings = base + "/os-vendor-backup-sharing"
page = session.get(sharings + "/detail", params={"backup_id": backup, "limit": "100",
                                                  "offset": "0"}, timeout=30).json()["shared"]
if project not in {s["to_project_id"] for s in page}:
    body = {"shared": {"backup_id": backup, "to_project_ids": [project]}}
    answer = session.post(sharings, json=body, timeout=30)
    answer.raise_for_status()
    print(json.dumps(answer.json()))
"""
)

FLOOR_LIST = (
    FLOOR_PREAMBLE
    + """
records = [r for page in pages(base + "/os-vendor-backup-sharing/detail", {}) for r in page]
print(json.dumps(records, indent=2))
"""
)

FLOOR_LIST_JSONL = (
    FLOOR_PREAMBLE
    + """
out = sys.stdout
for page in pages(base + "/os-vendor-backup-sharing/detail", {}):
    out.write("".join(json.dumps(r) + "\\n" for r in page))
"""
)

FLOOR_BACKUPS = (
    FLOOR_PREAMBLE
    + """
params = {"sort_key": "created_at", "sort_dir": "desc"}
records = [r for page in pages(base + "/backups/detail", params) for r in page]
print(json.dumps(records, indent=2))
"""
)

MINIMAL_TYPER = """
import typer
app = typer.Typer(rich_markup_mode=None, add_completion=False)
@app.command()
def share(backup_id: str, project_ids: list[str]) -> None:
    '''Share a backup.'''
@app.command()
def other() -> None:
    '''Another.'''
app()
"""


# -- builds ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Build:
    """One version of backupshare installed (not editable: pip compiles its bytecode)."""

    label: str
    commit: str
    venv: Path

    @property
    def bin(self) -> str:
        return str(self.venv / "bin" / "backupshare")

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")


def build(ref: str, work: Path, label: str) -> Build:
    """`git archive REF` into `work`, and a venv there with it installed."""
    commit = git("rev-parse", "--short", f"{ref}^{{commit}}")
    source, venv = work / f"src-{commit}", work / f"venv-{commit}"
    source.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print(f"building {label} ({commit}) in {venv} …", file=sys.stderr)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(source)],
        check=True,
    )
    return Build(label, commit, venv)


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


# -- one emulator and its request log -------------------------------------------------------------
class Server:
    """`backupshare emulator` (this tree's) on a free port, and a config file pointing at it."""

    def __init__(self, build: Build, work: Path, *extra: str) -> None:
        self.process = subprocess.Popen(
            [build.bin, "emulator", "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().rsplit(" ", 1)[1].strip()
        home = Path(tempfile.mkdtemp(dir=work))
        self.config = home / "backupshare" / "config.yaml"
        self.config.parent.mkdir()
        self.config.write_text(
            "default_profile: bench\nprofiles:\n  bench:\n"
            f"    endpoint: {self.url}\n    project_id: {PROJECT}\n"
            f"    auth: {{method: token, token: {TOKEN}}}\n"
        )
        self.config.chmod(0o600)
        clean = {k: v for k, v in os.environ.items() if not k.startswith("BACKUPSHARE_")}
        self.env = {**clean, "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home),
                    "NO_PROXY": "127.0.0.1", "NO_COLOR": "1"}  # fmt: skip

    def seed(self, **spec: object) -> None:
        requests.post(f"{self.url}/_emulator/seed", json=spec, timeout=600).raise_for_status()

    def logged(self) -> int:
        return len(requests.get(f"{self.url}/_emulator/requests", timeout=60).json())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()


# With --cpu each run is timed by the CPU its process used (user + system), not the wall clock:
# on a machine shared with other work, waiting for a core is most of the wall time's noise.
CLOCK = {"cpu": False}


def run(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, argv)
    if CLOCK["cpu"]:
        return usage.ru_utime + usage.ru_stime
    return time.perf_counter() - started


# -- alternation and its figures ------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """The samples of one variant: median and interquartile range."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def spread(self) -> tuple[float, float]:
        if len(self.samples) < 4:
            return min(self.samples), max(self.samples)
        q1, _, q3 = statistics.quantiles(self.samples, n=4)
        return q1, q3

    def seconds(self) -> str:
        low, high = self.spread()
        digits = 2 if self.median >= 1 else 3
        return f"{self.median:.{digits}f} s ({low:.{digits}f}–{high:.{digits}f})"

    def ratio_to(self, other: Figure) -> str:
        """The median of the per-round ratios (the rounds are paired by alternation)."""
        ratios = Figure([a / b for a, b in zip(self.samples, other.samples, strict=True)])
        low, high = ratios.spread()
        return f"{ratios.median:.2f}× ({low:.2f}–{high:.2f})"


def alternate(
    variants: dict[str, Callable[[], float]], runs: int, warmup: int
) -> dict[str, Figure]:
    """Every variant once per round, the order rotating round by round; warm-up rounds dropped."""
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(warmup + runs):
        turn = round_ % len(names)
        for name in names[turn:] + names[:turn]:
            took = variants[name]()
            if round_ >= warmup:
                samples[name].append(took)
    return {name: Figure(values) for name, values in samples.items()}


def requests_of(server: Server | None, action: Callable[[], object]) -> int | None:
    """How many requests one run of `action` sent (None without a server)."""
    if server is None:
        return None
    before = server.logged()
    action()
    return server.logged() - before


Row = tuple[str, ...]
HEADER = ("what", "new", "REF", "new / REF", "floor", "new / floor", "requests new · REF · floor")


@dataclass
class Case:
    """One command measured as new, REF and its floor (REF is left out when it lacks it)."""

    label: str
    new: Callable[[], object]
    ref: Callable[[], object] | None
    floor: Callable[[], object]
    floor_label: str
    server: Server | None = None

    def measure(self, runs: int, warmup: int) -> Row:
        def timed(action: Callable[[], object]) -> Callable[[], float]:
            def once() -> float:
                started = time.perf_counter()
                took = action()
                if CLOCK["cpu"] and isinstance(took, float):  # run()'s CPU seconds
                    return took
                return time.perf_counter() - started

            return once

        variants = {"new": timed(self.new), "floor": timed(self.floor)}
        if self.ref is not None:
            variants["ref"] = timed(self.ref)
        figures = alternate(variants, runs, warmup)
        counts = [requests_of(self.server, action) for action in (self.new, self.ref, self.floor)
                  if action is not None]  # fmt: skip
        if self.ref is None:
            counts.insert(1, None)
        new, floor, ref = figures["new"], figures["floor"], figures.get("ref")
        return (
            self.label,
            new.seconds(),
            ref.seconds() if ref else "- (no such command)",
            new.ratio_to(ref) if ref else "-",
            f"{floor.seconds()} {self.floor_label}",
            new.ratio_to(floor),
            " · ".join("-" if c is None else str(c) for c in counts),
        )


# -- the cases ------------------------------------------------------------------------------------
def startup_cases(new: Build, ref: Build, work: Path) -> list[Case]:
    minimal = work / "minimal_typer.py"
    minimal.write_text(MINIMAL_TYPER)
    cases = []
    for argv, floor, floor_label in (
        (["--version"], [new.python, "-c", "pass"], "(python -c pass)"),
        (["--help"], [new.python, str(minimal), "--help"], "(a minimal Typer app's --help)"),
    ):
        cases.append(Case(
            f"`{argv[0]}`",
            lambda argv=argv: run([new.bin, *argv]),
            lambda argv=argv: run([ref.bin, *argv]),
            lambda floor=floor: run(floor),
            floor_label,
        ))  # fmt: skip
    return cases


def fresh_targets(backups: int) -> Iterator[tuple[str, str]]:
    """(backup, project) pairs never shared yet: ten to a backup, the service's limit."""
    for number in range(1, backups + 1):
        for _ in range(10):
            yield str(uuid.UUID(int=number)), uuid.uuid4().hex


def share_case(new: Build, ref: Build, server: Server, runs: int) -> Case:
    backups = (3 * (runs + 4) + 12) // 10 + 1
    server.seed(backups=[{"id": str(uuid.UUID(int=n))} for n in range(1, backups + 1)])
    targets = fresh_targets(backups)
    floor = [new.python, "-c", FLOOR_SHARE, str(server.config)]

    def share(command: list[str]) -> Callable[[], object]:
        return lambda: run([*command, *next(targets)], server.env)

    return Case("`share B P` (one new target)", share([new.bin, "share"]),
                share([ref.bin, "share"]), share(floor), "(list + POST)", server)  # fmt: skip


def list_case(new: Build, ref: Build, server: Server, label: str, argv: list[str],
              floor_script: str, floor_label: str, with_ref: bool = True) -> Case:  # fmt: skip
    floor = [new.python, "-c", floor_script, str(server.config)]
    return Case(
        label,
        lambda: run([new.bin, *argv], server.env),
        (lambda: run([ref.bin, *argv], server.env)) if with_ref else None,
        lambda: run(floor, server.env),
        floor_label,
        server,
    )


def peak_rss_mb(argv: list[str], env: dict[str, str]) -> float:
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)  # fmt: skip
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def has_command(build: Build, name: str) -> bool:
    done = subprocess.run([build.bin, name, "--help"], capture_output=True, check=False)
    return done.returncode == 0


# -- the run ----------------------------------------------------------------------------------------
def compare(ref_name: str, runs: int, write: bool, cpu: bool = False) -> int:
    CLOCK["cpu"] = cpu
    if git("status", "--porcelain", "--untracked-files=no"):
        print("note: uncommitted changes are not measured (new is HEAD)", file=sys.stderr)
    warmup = 2
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="backupshare-bench-") as tmp:
        work = Path(tmp)
        new, ref = build("HEAD", work, "new"), build(ref_name, work, "REF")
        for case in startup_cases(new, ref, work):
            rows.append(case.measure(runs, warmup))
        server = Server(new, work)
        try:
            rows.append(share_case(new, ref, server, runs).measure(runs, warmup))
        finally:
            server.stop()
        server = Server(new, work)
        try:
            server.seed(shares=20)
            rows.append(list_case(new, ref, server, "`list-shares -o json`, 20 sharings",
                                  ["list-shares", "-o", "json"], FLOOR_LIST, "(the pages)")
                        .measure(runs, warmup))  # fmt: skip
            rows.append(list_case(new, ref, server, "`backups -o json`, the 4 demo backups",
                                  ["backups", "-o", "json"], FLOOR_BACKUPS, "(the pages)",
                                  with_ref=has_command(ref, "backups"))
                        .measure(runs, warmup))  # fmt: skip
        finally:
            server.stop()
        server = Server(new, work)
        try:
            server.seed(shares=10_000)
            bulk_runs = max(5, runs // 3)
            rows.append(list_case(new, ref, server, "`list-shares -o jsonl`, 10,000 sharings",
                                  ["list-shares", "-o", "jsonl"], FLOOR_LIST_JSONL,
                                  "(a bare requests loop, same pages)")
                        .measure(bulk_runs, 1))  # fmt: skip
            server.seed(shares=90_000)
            rows.append(rss_row(new, ref, server))
        finally:
            server.stop()
    print(" | ".join(HEADER))
    for row in rows:
        print(" | ".join(row))
    if write:
        write_readme(rows, new, ref, runs, cpu)
    return 0


def rss_row(new: Build, ref: Build, server: Server) -> Row:
    """Peak RSS of `list-shares -o jsonl` over 100,000 sharings, new, REF and the floor (one
    run each: memory does not vary with load, and the emulator takes a while over each page)."""
    argv = ["list-shares", "-o", "jsonl"]
    floor = [new.python, "-c", FLOOR_LIST_JSONL, str(server.config)]
    peaks: dict[str, list[float]] = {"new": [], "ref": [], "floor": []}
    for _ in range(1):
        peaks["new"].append(peak_rss_mb([new.bin, *argv], server.env))
        peaks["ref"].append(peak_rss_mb([ref.bin, *argv], server.env))
        peaks["floor"].append(peak_rss_mb(floor, server.env))
    top = {name: max(values) for name, values in peaks.items()}
    return (
        "peak RSS, `list-shares -o jsonl` of 100,000",
        f"{top['new']:.0f} MB",
        f"{top['ref']:.0f} MB",
        f"{top['new'] / top['ref']:.2f}×",
        f"{top['floor']:.0f} MB (the bare loop)",
        f"{top['new'] / top['floor']:.2f}×",
        "-",
    )


def write_readme(rows: list[Row], new: Build, ref: Build, runs: int, cpu: bool = False) -> None:
    import platform

    from sections import set_section

    readme = ROOT / "benchmarks" / "README.md"
    text = readme.read_text()
    when = datetime.now(timezone.utc)
    load = os.getloadavg()[0]
    header = [f"new ({new.commit})" if h == "new" else f"{ref.commit}" if h == "REF" else h
              for h in HEADER]  # fmt: skip
    table = [
        f"Measured {when:%Y-%m-%d %H:%M} UTC with `python benchmarks/run.py --compare "
        f"{ref.commit}{' --cpu' if cpu else ''}`: {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {'CPU seconds (user + system), ' if cpu else ''}load "
        f"average {load:.1f} at the end; medians of {runs} alternated rounds (bulk: "
        f"{max(5, runs // 3)}) with the interquartile range, ratios the median of the "
        "per-round ratios.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(row) + " |" for row in rows],
    ]
    text = set_section(text, "COMPARE", table, "Side by side")
    ratios = [row[3].split(" ")[0] for row in rows]
    history = (f"| {when:%Y-%m-%d} | {new.commit} | {ref.commit} | "
               + " | ".join(ratios) + " |")  # fmt: skip
    if "<!-- ROUNDS -->" not in text:
        columns = " | ".join(row[0] for row in rows)
        text += (
            "\n## Each round against its reference\n\nOne line per `--compare` run (new / REF, "
            "medians of per-round ratios).\n\n<!-- ROUNDS -->\n"
            f"| date | new | REF | {columns} |\n|"
            + "---|" * (3 + len(rows))
            + "\n<!-- /ROUNDS -->\n"
        )
    text = text.replace("<!-- /ROUNDS -->", history + "\n<!-- /ROUNDS -->")
    readme.write_text(text)


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--compare", metavar="REF", required=True)
    parser.add_argument("--runs", type=int, default=15, help="alternated rounds (default 15)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--cpu", action="store_true", help="CPU time of each run, not wall time")
    args = parser.parse_args(argv)
    return compare(args.compare, max(4, args.runs), not args.no_write, args.cpu)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
