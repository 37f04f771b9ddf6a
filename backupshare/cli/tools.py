"""config, doctor, emulator, completion and help: the commands around the ones that share
(cli/shares.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

import typer

from ..errors import ConfigError, UsageError
from .about import COMPLETE_VAR
from .catalog import SuggestingGroup, single_command, unknown_command
from .invocation import Invocation
from .options import with_common_options

SHELLS = ("bash", "zsh", "fish", "powershell")
# How to install completion, line by line: the README's `completion:install` block, the same
# (tests/test_polish.py holds them together).
INSTALL = (
    "# bash: loaded from ~/.bashrc",
    "backupshare completion bash > ~/.backupshare-completion.bash",
    "echo '. ~/.backupshare-completion.bash' >> ~/.bashrc",
    "# zsh: loaded from ~/.zshrc, after its compinit",
    "backupshare completion zsh > ~/.backupshare-completion.zsh",
    "echo '. ~/.backupshare-completion.zsh' >> ~/.zshrc",
    "# fish: its completions directory is read on demand",
    "mkdir -p ~/.config/fish/completions",
    "backupshare completion fish > ~/.config/fish/completions/backupshare.fish",
)

config_app = typer.Typer(
    cls=SuggestingGroup,
    add_completion=False,  # completion is `backupshare completion SHELL`
    help="Create, inspect and check configuration profiles.",
    epilog="Examples:  backupshare config init  ·  backupshare -p prod config show  ·  "
    "backupshare config validate",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def command(name: str) -> Any:
    """The click command for `name`, built on demand (see cli.LazyGroup)."""
    if name == "config":
        from .typer_internals import click_command

        built = click_command(config_app)
        built.name = "config"
        return built
    if name == "emulator":
        return single_command(
            "emulator",
            emulator,
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
            add_help_option=False,
            epilog="Example:  backupshare emulator --port 8776",
        )
    if name == "demo":
        return single_command(
            "demo", demo, epilog="Examples:  backupshare demo  ·  backupshare demo --service cbr"
        )
    if name == "doctor":
        return single_command("doctor", doctor, epilog="Example:  backupshare -p prod doctor")
    if name == "help":
        return single_command(
            "help",
            help_command,
            epilog="Examples:  backupshare help share  ·  backupshare help config init  ·  "
            "backupshare help exit-codes  ·  topics: " + ", ".join(HELP_TOPICS) + ".",
        )
    return single_command(
        "completion",
        completion,
        epilog="Examples (to install it, as the README does):  " + "  ·  ".join(INSTALL),
    )


# -- demo ------------------------------------------------------------------------------------------
# Starts a bundled emulator on a free loopback port and runs the tour against it: find a backup,
# share it with two projects, list, (on CBR: accept as the receiving project) cancel. Each
# command is printed as you would type it, with its real output. Your own config, credentials
# and endpoint are never used; the emulator stops when the demo ends.
@with_common_options
def demo(inv: Invocation) -> None:
    from ..demo import run
    from .arguments import demo_service

    run(demo_service(inv.flags.service))


# -- help ------------------------------------------------------------------------------------------
HELP_TOPICS = ("exit-codes", "configuration", "output", "commands", "sharings", "wire", "emulator")


def topic_text(name: str) -> str:
    """A reference page as shipped in the package (backupshare/topics/, from docs/)."""
    from importlib.resources import files

    return (files("backupshare") / "topics" / f"{name}.md").read_text(encoding="utf-8")


# The help of a command, or of backupshare itself; or a reference topic (the pages of docs/,
# shipped in the package: they read the same offline, from a wheel).
def help_command(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="COMMAND|TOPIC",
            help="A command (and subcommand), or a reference topic: " + ", ".join(HELP_TOPICS),
            show_default=False,
        ),
    ] = None,
) -> None:
    parent = ctx.find_root()
    command: Any = parent.command
    if names and len(names) == 1 and names[0] in HELP_TOPICS:
        print(topic_text(names[0]), end="")
        return
    for name in names or []:
        known = command.list_commands(parent) if hasattr(command, "list_commands") else []
        if name not in known:
            if command is parent.command:  # at the top, a topic is as likely as a command
                known = [*known, *HELP_TOPICS]
            raise unknown_command(name, known, parent.command_path)
        command = command.get_command(parent, name)
        parent = command.make_context(name, [], parent=parent, resilient_parsing=True)
    print(command.get_help(parent))


# -- config --------------------------------------------------------------------------------------
@config_app.command("path", epilog="Example:  backupshare config path")
@with_common_options
def config_path_cmd(inv: Invocation) -> None:
    """Print the config file in use."""
    from ..config_file import config_path

    path, _ = config_path(inv.flags.config, inv.env)
    print(path)


@config_app.command("profiles", epilog="Example:  backupshare config profiles -o json")
@with_common_options
def config_profiles(inv: Invocation) -> None:
    """List the profile names of the config file."""
    from ..config import profile_name
    from ..config_file import config_path, read_config_file

    path, _ = config_path(inv.flags.config, inv.env)
    data = read_config_file(path)
    profiles = data.get("profiles") or {}
    default, _ = profile_name(None, inv.env, data)  # the one a run uses without --profile
    records = [{"profile": str(name), "default": name == default} for name in profiles]
    inv.out().documents(records, ["profile", "default"])


@config_app.command("forget-tokens", epilog="Example:  backupshare config forget-tokens")
@with_common_options
def config_forget_tokens(inv: Invocation) -> None:
    """Delete cached IAM tokens (password auth); the next command logs in again."""
    from ..auth import forget_tokens
    from ..config_file import cache_dir

    folder = cache_dir(inv.env)
    removed = forget_tokens(folder)
    inv.out().notice(f"removed {removed} cached token{'s' if removed != 1 else ''} from {folder}")


@config_app.command("show", epilog="Example:  backupshare -p prod config show")
@with_common_options
def config_show(inv: Invocation) -> None:
    """Print the effective settings of a profile (secrets masked) and where each came from."""
    from ..config import SETTINGS, mask_url

    current = inv.settings()
    auth = current.auth
    values: list[tuple[str, Any, str]] = [
        ("profile", current.profile, current.sources.get("profile", "selected")),
        ("config_file", str(current.config_path or "(none)"), "discovered"),
    ]
    for setting in SETTINGS:  # the table's order: profile settings, then auth's
        if setting.section == "auth":
            value = getattr(auth, setting.key)
            shown = "***" if setting.secret and value is not None else value
            key = f"auth.{setting.key}"
            source = current.sources.get(key) or current.sources.get(setting.key, "")
        elif setting.key != "auth":
            shown, key = getattr(current, setting.key), setting.key
            source = current.sources.get(key, "default")
        else:
            continue
        values.append((key, shown, source))
    records = [
        {"key": k, "value": mask_url(v) if isinstance(v, str) else v, "source": s}
        for k, v, s in values
        if v is not None
    ]
    inv.out().documents(records, ["key", "value", "source"])


@config_app.command(
    "validate", epilog="Example:  backupshare config validate --config ./config.yaml"
)
@with_common_options
def config_validate(inv: Invocation) -> None:
    """Check a config file; list every problem (exit 0 when valid, 3 when not)."""
    from ..config_file import config_path, read_config_file, validate_file

    path, _ = config_path(inv.flags.config, inv.env)
    problems = validate_file(read_config_file(path), path)
    out = inv.out()
    if problems:
        for problem in problems:
            inv.say(f"problem: {problem}")
        raise ConfigError(f"{path}: {len(problems)} problem{'s' if len(problems) > 1 else ''}")
    out.notice(f"{path}: valid")


@config_app.command(
    "init",
    epilog=(
        "Examples:  backupshare config init  (asks on a terminal)  ·  "
        "backupshare -p prod config init --cloud otc --region eu-de --project-id ID "
        "--auth-method aksk --access-key AK --secret-env PROD_SK"
    ),
)
@with_common_options
def config_init(
    inv: Invocation,
    cloud: Annotated[
        str | None, typer.Option("--cloud", metavar="otc|huaweicloud", help="The cloud.")
    ] = None,
    auth_method: Annotated[
        str | None,
        typer.Option("--auth-method", metavar="token|password|aksk", help="How to authenticate."),
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", metavar="NAME", help="IAM user (password auth).")
    ] = None,
    domain: Annotated[
        str | None, typer.Option("--domain", metavar="NAME", help="Account name.")
    ] = None,
    access_key: Annotated[
        str | None,
        typer.Option("--access-key", metavar="AK", help="Access key (aksk auth; not secret)."),
    ] = None,
    secret_env: Annotated[
        str | None,
        typer.Option(
            "--secret-env",
            metavar="VAR",
            help="Env var that holds the token, password or secret key.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing profile.")] = False,
) -> None:
    """Write a profile (asks on a terminal; never takes a secret on the command line)."""
    from ..config import profile_name
    from ..config_file import config_path, read_config_file, write_profile

    flags = inv.flags
    profile = build_profile(
        inv if inv.can_prompt() else None,
        cloud=cloud,
        region=flags.region,
        service=flags.service,
        endpoint=flags.endpoint,
        project_id=flags.project_id,
        auth_method=auth_method,
        username=username,
        domain=domain,
        access_key=access_key,
        secret_env=secret_env,
    )
    path, _ = config_path(flags.config, inv.env)
    existing = read_config_file(path) if path.exists() else {}
    name, _ = profile_name(flags.profile, inv.env, existing)  # the one a run would use
    write_profile(path, name, profile, force=force)
    inv.out().notice(f"wrote profile {name!r} to {path} (mode 600)")


Check = Callable[[str], "str | None"]  # a problem with an answer, or None


def build_profile(terminal: Invocation | None, **given: str | None) -> dict[str, Any]:
    """The profile mapping from flags, asking at the `terminal` (None: there is none to ask
    at) for what is missing. A bad flag is a usage error; a bad answer at the prompt says what
    is wrong and asks again."""
    from ..config import AUTH_METHODS, CLOUDS, METHOD_KEYS, SECRET_KEYS, url_problem

    def value(key: str, question: str, default: str | None, check: Check) -> str:
        flag = given.get(key)
        if flag:
            problem = check(flag)
            if problem:
                raise UsageError(f"invalid --{key.replace('_', '-')} {flag!r}: {problem}")
            return flag
        if terminal is None:
            if default is None:
                raise UsageError(f"a profile needs --{key.replace('_', '-')}")
            return default
        while True:
            answer = terminal.ask(question, default)
            problem = check(answer)
            if not problem:
                return answer
            terminal.say(f"  {problem}; try again (Ctrl-C to stop)")

    from ..config import SERVICES

    profile: dict[str, Any] = {}
    profile["service"] = value(
        "service", f"Backup service ({' or '.join(SERVICES)})", "vbs", _one_of("service", SERVICES)
    )
    endpoint = given.get("endpoint")
    if endpoint:
        profile["endpoint"] = value("endpoint", "", None, url_problem)
    else:
        profile["cloud"] = value(
            "cloud", f"Cloud ({' or '.join(CLOUDS)})", "otc", _one_of("cloud", CLOUDS)
        )
        profile["region"] = value("region", "Region", "eu-de", _region_problem)
    profile["project_id"] = value(
        "project_id", "Project id (32 hex)", None, _project_problem
    ).lower()
    method = value(
        "auth_method",
        f"Auth method ({', '.join(AUTH_METHODS)})",
        "aksk",
        _one_of("auth method", AUTH_METHODS),
    )
    auth: dict[str, Any] = {"method": method}
    # What each method needs is the settings table's (config.METHOD_KEYS): its plain keys are
    # asked for here, its one secret comes from --secret-env or a hidden prompt.
    for key in METHOD_KEYS[method]:
        if key not in SECRET_KEYS:
            auth[key] = value(key, QUESTIONS[key], None, _required)
    [secret_key] = [key for key in METHOD_KEYS[method] if key in SECRET_KEYS]
    if given.get("secret_env"):
        auth[f"{secret_key}_env"] = given["secret_env"]
    elif terminal is not None:
        question = f"{secret_key.replace('_', ' ').capitalize()} (hidden)"
        secret = terminal.ask(question, secret=True)
        if secret:
            auth[secret_key] = secret
    else:
        raise UsageError(
            f"name the environment variable that holds the {secret_key.replace('_', ' ')}: "
            "--secret-env VAR",
            hint="secrets are never taken on the command line",
        )
    profile["auth"] = auth
    return profile


QUESTIONS = {  # config init's prompt for each plain key of an auth method
    "username": "IAM user name",
    "domain": "Account (domain) name",
    "access_key": "Access key (AK)",
}


def _one_of(what: str, choices: Iterable[str]) -> Check:
    def check(answer: str) -> str | None:
        return None if answer in choices else f"{what} must be one of {', '.join(choices)}"

    return check


def _region_problem(answer: str) -> str | None:
    from ..config import region_problem

    return region_problem(answer)


def _project_problem(answer: str) -> str | None:
    from ..models import normalize_project_id

    if normalize_project_id(answer) is None:
        return "a project id is 32 hex characters such as 722513ed0a324dadaabe5b2d0fe848c9"
    return None


def _required(answer: str) -> str | None:
    return None if answer.strip() else "an answer is needed"


# -- doctor --------------------------------------------------------------------------------------
@with_common_options
def doctor(inv: Invocation) -> None:
    from ..doctor import run_checks

    steps = run_checks(inv.flags, inv.env, log=inv.debug_logger())
    out = inv.out()
    records = [step.to_dict() for step in steps]
    out.documents(records, ["check", "status", "detail", "fix"])
    failed = next((step for step in steps if step.status == "fail"), None)
    if failed is not None:
        raise typer.Exit(failed.exit_code)


# -- emulator, completion ------------------------------------------------------------------------
def emulator(ctx: typer.Context) -> None:
    from ..emulator.__main__ import main as emulator_main

    raise typer.Exit(emulator_main(ctx.args))


def completion(
    shell: Annotated[str, typer.Argument(help="bash, zsh, fish or powershell.", metavar="SHELL")],
) -> None:
    if shell not in SHELLS:
        raise UsageError(f"invalid shell {shell!r}: choose one of {', '.join(SHELLS)}")
    print(completion_script(shell))


def completion_script(shell: str) -> str:
    # typer.completion, Typer's public module for this, re-exports it without declaring it
    from typer.completion import get_completion_script  # type: ignore[attr-defined]

    return get_completion_script(prog_name="backupshare", complete_var=COMPLETE_VAR, shell=shell)
