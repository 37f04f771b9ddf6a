"""Completion: the committed scripts match the code, and real bash, zsh and fish complete with them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from backupshare.cli.tools import completion_script

from .helpers import BIN, GUARD, ROOT

CONFIG = """
profiles:
  prod: {endpoint: "https://vbs.example.com"}
  staging: {endpoint: "https://vbs.example.com"}
"""


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_committed_scripts_match_the_code(shell: str) -> None:
    committed = (ROOT / "completions" / f"backupshare.{shell}").read_text()
    assert committed == completion_script(shell) + "\n", (
        f"completions/backupshare.{shell} is stale: "
        f"run `backupshare completion {shell} > completions/backupshare.{shell}`"
    )


def shell_env(isolated: Path) -> dict[str, str]:
    config = isolated / "config.yaml"
    config.write_text(CONFIG)
    return {
        **os.environ,
        "PATH": f"{BIN.parent}{os.pathsep}{os.environ['PATH']}",
        "BACKUPSHARE_CONFIG": str(config),
    }


def run_shell(argv: list[str], env: dict[str, str]) -> list[str]:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


CASES = [
    (["backupshare", "li"], ["list-shares"]),
    (["backupshare", "c"], ["cancel", "completion", "config"]),
    (["backupshare", "config", "p"], ["path", "profiles"]),
    (["backupshare", "-p", ""], ["prod", "staging"]),
    (["backupshare", "list-shares", "--sort-key", "s"], ["size", "status"]),
    (["backupshare", "list-shares", "--sort-dir", ""], ["asc", "desc"]),
    (["backupshare", "show", "-o", "j"], ["json", "jsonl"]),
    (["backupshare", "cancel", "--y"], ["--yes"]),
]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize(("words", "expected"), CASES)
def test_bash(isolated: Path, words: list[str], expected: list[str]) -> None:
    script = ROOT / "completions" / "backupshare.bash"
    quoted = " ".join(f"'{w}'" for w in words)
    program = (
        f"source {script}; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        '_backupshare_completion backupshare; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    assert sorted(run_shell(["bash", "-c", program], shell_env(isolated))) == expected


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (.ci/run adds it)")
@pytest.mark.parametrize(("words", "expected"), CASES)
def test_zsh(isolated: Path, words: list[str], expected: list[str]) -> None:
    script = ROOT / "completions" / "backupshare.zsh"
    quoted = " ".join(f"'{w}'" for w in words)
    # compdef and _arguments belong to zsh's completion system; stand-ins record what the
    # script hands them, while the script itself and its call of backupshare run for real.
    # The spec is `*: :(("value":"description" ...))`; zsh's own (z) and (Q) take it apart.
    program = (
        "compdef() { :; }; "
        "_arguments() { local spec=${1#*:\\(\\(}; spec=${spec%\\)\\)}; local w; "
        "for w in ${(Q)${(z)spec}}; do print -r -- ${w%%:*}; done; }; "
        f"source {script}; words=({quoted}); CURRENT={len(words)}; _backupshare_completion"
    )
    assert sorted(run_shell(["zsh", "-f", "-c", program], shell_env(isolated))) == expected


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (.ci/run adds it)")
@pytest.mark.parametrize(("words", "expected"), CASES)
def test_fish(isolated: Path, words: list[str], expected: list[str]) -> None:
    script = ROOT / "completions" / "backupshare.fish"
    line = " ".join(words)
    program = f"source {script}; complete -C '{line}'"
    lines = run_shell(["fish", "--no-config", "-c", program], shell_env(isolated))
    assert sorted(entry.split("\t")[0] for entry in lines) == expected


@pytest.mark.e2e
def test_completion_needs_no_network_or_credentials(isolated: Path) -> None:
    env = {**shell_env(isolated), "BACKUPSHARE_ENDPOINT": "https://10.255.255.1"}
    env |= {"_BACKUPSHARE_COMPLETE": "complete_bash", "COMP_WORDS": "backupshare list-shares --s",
            "COMP_CWORD": "2"}  # fmt: skip
    done = subprocess.run([str(BIN)], env=env, capture_output=True, text=True, timeout=GUARD)
    assert done.returncode == 0
    assert {"--sort-key", "--sort-dir", "--status", "--shared-with-me"} <= set(done.stdout.split())


# -- the README's install lines, as written, in a fresh home -------------------------------------
def install_lines() -> dict[str, str]:
    """The README's completion block, one shell script per `# shell:` comment."""
    from .helpers import readme_block

    scripts: dict[str, list[str]] = {}
    shell = ""
    for line in readme_block("completion:install").splitlines():
        if line.startswith("# "):
            shell = line[2:].split(":")[0]
            scripts[shell] = []
        else:
            scripts[shell].append(line)
    return {name: "\n".join(lines) for name, lines in scripts.items()}


def installed_home(tmp_path: Path, shell: str, rc: str = "") -> dict[str, str]:
    home = tmp_path / "fresh-home"
    home.mkdir()
    if rc:
        (home / f".{shell}rc").write_text(rc)
    env = {
        "HOME": str(home),
        "PATH": f"{BIN.parent}{os.pathsep}{os.environ['PATH']}",
        "TERM": "dumb",
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(["sh", "-ec", install_lines()[shell]], env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    return env


def test_the_readme_installs_completion_for_each_tested_shell() -> None:
    assert sorted(install_lines()) == ["bash", "fish", "zsh"]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_readme_install_for_bash(tmp_path: Path) -> None:
    env = installed_home(tmp_path, "bash")
    program = (  # an interactive shell reads ~/.bashrc, as a new terminal would
        "COMP_WORDS=(backupshare li); COMP_CWORD=1; "
        '$(complete -p backupshare | sed "s/.*-F \\([^ ]*\\) .*/\\1/") backupshare; '
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    assert run_shell(["bash", "-i", "-c", program], env)[-1:] == ["list-shares"]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (.ci/run adds it)")
def test_readme_install_for_zsh(tmp_path: Path) -> None:
    env = installed_home(tmp_path, "zsh", rc="autoload -Uz compinit && compinit -u\n")
    # an interactive zsh reads ~/.zshrc; compdef registered the completion function
    lines = run_shell(["zsh", "-i", "-c", "print -r -- ${_comps[backupshare]}"], env)
    assert lines[-1:] == ["_backupshare_completion"]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (.ci/run adds it)")
def test_readme_install_for_fish(tmp_path: Path) -> None:
    env = installed_home(tmp_path, "fish")
    lines = run_shell(["fish", "-c", "complete -C 'backupshare li'"], env)
    assert [entry.split("\t")[0] for entry in lines] == ["list-shares"]
