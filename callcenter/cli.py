"""The `callcenter` command line."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console as RichConsole

from callcenter.adapters.db.migrate import current, upgrade
from callcenter.adapters.ops.modes import CONTROLLER_UMASK, drop_to_state_owner, make_state_dir
from callcenter.adapters.pbx.provider import ProviderError
from callcenter.adapters.pbx.render import RenderError
from callcenter.bootstrap import build_asterisk, build_prompts, build_storage
from callcenter.config import NAME_PATTERN, ConfigError, Settings, load_settings
from callcenter.core.dial_policy import check_number
from callcenter.core.model import DuplicateAgent
from callcenter.core.users import password_problem
from callcenter.runtime import Controller


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


class Context:
    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
            setup_logging(self._settings.log.level)
        return self._settings

    @property
    def pbx_settings(self) -> Settings:
        """What `callcenter pbx ...` works on: this machine's node when [pbx] node names
        one of [[pbx.nodes]] (its state directory, AMI, SIP address), else the box."""
        settings = self.settings
        if not settings.pbx.node:
            return settings
        try:
            return settings.node_settings(settings.pbx.node)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None


pass_context = click.make_pass_decorator(Context)


def prepare_database(settings: Settings) -> None:
    """Create the state directory and bring the schema up to date."""
    make_state_dir(settings.state_dir)
    upgrade(settings.database_url)


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="CALLCENTER_CONFIG",
    default=None,
    help="TOML configuration file (default /etc/callcenter/callcenter.toml).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """On-premise call center: controller, Asterisk provisioning, administration."""
    os.umask(CONTROLLER_UMASK)  # nothing the call center writes is world-readable
    ctx.obj = Context(config_path)


# -- pbx ---------------------------------------------------------------------
@main.group()
def pbx() -> None:
    """Provision and run the project's Asterisk."""


def _accounts(settings: Settings) -> list[Any]:
    prepare_database(settings)
    storage = build_storage(settings)
    try:
        return storage.agents.accounts()
    finally:
        storage.engine.dispose()


@pbx.command("up")
@pass_context
def pbx_up(ctx: Context) -> None:
    """Build (once) and start Asterisk with the project's configuration."""
    settings = ctx.pbx_settings
    pbx = build_asterisk(settings)
    try:
        # A node never opens the database: the controller publishes the agents' endpoints
        # into its state directory on every AMI login.
        accounts = None if settings.pbx.node else _accounts(settings)
        pbx.provider.prepare()  # building the Asterisk root (once) prints its own steps
        # Start-up waits for AMI to answer (up to pbx.start_timeout): a spinner on a
        # terminal's stderr meanwhile, nothing when stderr is a file or a pipe.
        with RichConsole(stderr=True).status("starting Asterisk (or reloading what changed)"):
            said = pbx.up(accounts)
    except (ProviderError, RenderError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(said)


@pbx.command("run")
@pass_context
def pbx_run(ctx: Context) -> None:
    """Render the configuration and run Asterisk in the foreground (for systemd).

    The process becomes Asterisk (same PID); `pbx cli`, `pbx status` and `pbx down`
    work on it as on one `pbx up` started.
    """
    try:
        build_asterisk(ctx.pbx_settings).exec_foreground()
    except (ProviderError, RenderError) as exc:
        raise click.ClickException(str(exc)) from None


@pbx.command("upgrade")
@click.option("--rollback", is_flag=True, help="Go back to the root the last upgrade replaced.")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The Asterisk root to upgrade (default: [pbx] root).",
)
@pass_context
def pbx_upgrade(ctx: Context, rollback: bool, root: Path | None) -> None:
    """Rebuild the Asterisk root with current packages and swap it in (ROOT.previous
    kept); a running Asterisk is restarted on it once `asterisk -V` passes inside it."""
    from callcenter.adapters.pbx.provider import choose_provider
    from callcenter.adapters.pbx.upgrade import RootPaths, RootUpgrade, UpgradeError

    settings = ctx.settings
    ours = root is None or root.absolute() == settings.pbx.root.absolute()
    if ours and choose_provider(settings.pbx).name != "chroot":
        raise click.ClickException(
            "this Asterisk comes from the system's packages: upgrade it with apt"
        )
    asterisk = build_asterisk(settings)
    # Another root than the one in use: swapped, never restarted from here.
    running = ours and asterisk.running_pid() is not None

    def restart() -> str:
        return _restart_asterisk(settings)

    upgrade = RootUpgrade(
        RootPaths((root or settings.pbx.root).absolute()),
        pbx_dir=settings.pbx_dir if ours else None,
    )
    try:
        with RichConsole(stderr=True).status("upgrading the Asterisk root"):
            said = (
                upgrade.rollback(running, restart)
                if rollback
                else upgrade.upgrade(running, restart)
            )
    except (UpgradeError, ProviderError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    for line in said:
        click.echo(line)


def _restart_asterisk(settings: Settings) -> str:
    """Restart Asterisk the way it runs: its systemd unit, or `pbx down` then `pbx up`."""
    import subprocess

    from callcenter.adapters.ops.install import systemd_running
    from callcenter.adapters.ops.units import ASTERISK_UNIT

    if systemd_running():
        active = subprocess.run(["systemctl", "is-active", "--quiet", ASTERISK_UNIT], check=False)
        if active.returncode == 0:
            done = subprocess.run(
                ["systemctl", "restart", ASTERISK_UNIT], capture_output=True, text=True
            )
            if done.returncode != 0:
                raise ProviderError(f"systemctl restart {ASTERISK_UNIT}: {done.stderr.strip()}")
            if not build_asterisk(settings).wait_answering(settings.pbx.start_timeout):
                raise ProviderError(f"{ASTERISK_UNIT} restarted but AMI does not answer")
            return f"restarted {ASTERISK_UNIT}"
    asterisk = build_asterisk(settings)
    asterisk.down()
    return asterisk.up(_accounts(settings))


@pbx.command("down")
@pass_context
def pbx_down(ctx: Context) -> None:
    """Stop the Asterisk that `up` started."""
    click.echo(build_asterisk(ctx.pbx_settings).down())


@pbx.command("status")
@pass_context
def pbx_status(ctx: Context) -> None:
    """Say whether Asterisk runs and whether AMI answers."""
    status = build_asterisk(ctx.pbx_settings).status()
    for line in status.lines():
        click.echo(line)
    if not (status.running and status.ami_answers):
        sys.exit(1)


@pbx.command("cli")
@click.argument("command", nargs=-1, required=True)
@pass_context
def pbx_cli(ctx: Context, command: tuple[str, ...]) -> None:
    """Run an Asterisk CLI command, e.g. `callcenter pbx cli core show channels`."""
    try:
        click.echo(build_asterisk(ctx.pbx_settings).cli(" ".join(command)), nl=False)
    except ProviderError as exc:
        raise click.ClickException(str(exc)) from None


# -- kamailio ------------------------------------------------------------------
@main.group()
def kamailio() -> None:
    """Provision and run Kamailio in front of the Asterisk nodes ([kamailio])."""


@kamailio.command("up")
@pass_context
def kamailio_up(ctx: Context) -> None:
    """Render and check the configuration (nodes, trunks, the agents' SIP credentials
    from the database), start Kamailio in the background; restart it if changed."""
    from callcenter.adapters.kamailio.process import KamailioProcess

    try:
        click.echo(KamailioProcess(ctx.settings).up(_accounts(ctx.settings)))
    except (ProviderError, RenderError) as exc:
        raise click.ClickException(str(exc)) from None


@kamailio.command("run")
@pass_context
def kamailio_run(ctx: Context) -> None:
    """Render and check the configuration, then become Kamailio (for systemd)."""
    from callcenter.adapters.kamailio.process import KamailioProcess

    try:
        KamailioProcess(ctx.settings).exec_foreground(_accounts(ctx.settings))
    except (ProviderError, RenderError) as exc:
        raise click.ClickException(str(exc)) from None


@kamailio.command("down")
@pass_context
def kamailio_down(ctx: Context) -> None:
    """Stop the Kamailio that `up` started."""
    from callcenter.adapters.kamailio.process import KamailioProcess

    click.echo(KamailioProcess(ctx.settings).down())


@kamailio.command("status")
@pass_context
def kamailio_status(ctx: Context) -> None:
    """Say whether Kamailio runs, answers OPTIONS, and which nodes it sees up."""
    from callcenter.adapters.kamailio.process import KamailioProcess

    status = KamailioProcess(ctx.settings).status()
    for line in status.lines():
        click.echo(line)
    if not (status.running and status.rtt_ms is not None):
        sys.exit(1)


# -- service -------------------------------------------------------------------
@main.group()
def service() -> None:
    """Run the call center as system services (systemd)."""


def _install_paths(ctx: Context) -> Any:
    from callcenter.adapters.ops.units import InstallPaths
    from callcenter.adapters.pbx.provider import choose_provider
    from callcenter.config import config_file_path

    settings = ctx.settings
    script = Path(sys.executable).parent / "callcenter"
    command = (str(script),) if script.exists() else (sys.executable, "-m", "callcenter.cli")
    config = config_file_path(ctx.config_path)
    return InstallPaths(
        command=command,
        config_file=config.absolute() if config else None,
        state_dir=settings.state_dir.absolute(),
        provider=choose_provider(settings.pbx).name,
        root=settings.pbx.root.absolute(),
        # The lowest port the console binds (HTTPS, or the redirecting plain HTTP one).
        web_port=min(p for p in (settings.web.port, settings.web.http_port or 65535) if p)
        if settings.web.enabled
        else 0,
        sip_port=settings.sip.port,
    )


@service.command("install")
@click.option("--enable", is_flag=True, help="Also enable and start both services now.")
@click.option(
    "--unit-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/etc/systemd/system"),
    show_default=True,
)
@click.option(
    "--logrotate-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/etc/logrotate.d"),
    show_default=True,
)
@click.option(
    "--fail2ban-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/etc/fail2ban"),
    show_default=True,
    help="fail2ban's folder: the filter and jail go in filter.d/ and jail.d/.",
)
@click.option(
    "--files-only",
    is_flag=True,
    help="Only write the files: no user, no Asterisk root, no systemctl (packaging).",
)
@pass_context
def service_install(
    ctx: Context,
    enable: bool,
    unit_dir: Path,
    logrotate_dir: Path,
    fail2ban_dir: Path,
    files_only: bool,
) -> None:
    """Install the controller's and Asterisk's systemd units, the log rotation and the
    fail2ban jail (when fail2ban is installed).

    The controller runs as the system user `callcenter` (created if absent),
    Asterisk as `asterisk` (it drops to it after mounting its root); both restart
    on failure. With systemd running, the units are loaded (and started with --enable).
    """
    from callcenter.adapters.ops.install import InstallError, install
    from callcenter.adapters.ops.units import UnitError

    settings = ctx.settings

    def prepare() -> None:
        # Asterisk's root built now, not by its unit (which may write only the state
        # directory), and the AMI secret made so the controller can start first.
        asterisk = build_asterisk(settings)
        asterisk.provider.prepare()
        asterisk.ami_secret()

    try:
        report = install(
            _install_paths(ctx),
            enable=enable,
            unit_dir=unit_dir,
            logrotate_dir=logrotate_dir,
            fail2ban_dir=fail2ban_dir,
            prepare=prepare,
            files_only=files_only,
        )
    except (InstallError, UnitError, ProviderError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)


# -- backup and restore ----------------------------------------------------------
def _backup_install(ctx: Context) -> Any:
    from callcenter.adapters.ops.backup import Install
    from callcenter.config import config_file_path

    settings = ctx.settings
    config = config_file_path(ctx.config_path)
    return Install(
        database_url=settings.database_url,
        state_dir=settings.state_dir.absolute(),
        site_dir=settings.site_dir.absolute(),
        config_file=config.absolute() if config else None,
    )


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--with-recordings", is_flag=True, help="Include the call recordings.")
@pass_context
def backup_command(ctx: Context, file: Path, with_recordings: bool) -> None:
    """Write the database, secrets, state and configuration into FILE (a tar archive,
    gzip-compressed when FILE ends in .gz or .tgz; mode 0600: it holds secrets)."""
    from callcenter.adapters.ops.backup import BackupError, backup

    try:
        manifest = backup(_backup_install(ctx), file, with_recordings=with_recordings)
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    size = file.stat().st_size
    click.echo(
        f"backup {file}: {manifest.database['kind']} database and "
        f"{len(manifest.members) - 1} files, {size / 1e6:.1f} MB"
    )


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite a state directory, database and site files that are not empty.",
)
@pass_context
def restore_command(ctx: Context, file: Path, force: bool) -> None:
    """Put a backup back: into an empty state directory and database (stop both
    services first). The configuration says where; existing site files are kept
    unless --force."""
    import os
    import pwd

    from callcenter.adapters.ops.backup import BackupError, restore
    from callcenter.adapters.ops.install import hand_state_to

    install = _backup_install(ctx)
    try:
        manifest, report = restore(install, file, force=force)
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("callcenter")
        except KeyError:
            pass
        else:
            hand_state_to(install.state_dir, "callcenter")
    for line in report.lines(manifest):
        click.echo(line)
    click.echo("`callcenter db upgrade` brings an older backup's schema up to date")


# -- db ------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(ctx: Context) -> None:
    """Apply every migration not yet applied."""
    prepare_database(ctx.settings)
    click.echo(f"database at revision {current(ctx.settings.database_url)}")


# -- agents --------------------------------------------------------------------
@main.group()
def agent() -> None:
    """Agents and their softphone accounts."""


@agent.command("add")
@click.argument("username")
@click.option(
    "--name", "display_name", required=True, help="Name shown to callers and on the wallboard."
)
@click.option("--extension", required=True, help="The agent's internal number.")
@click.option("--password", default=None, help="SIP password (generated when omitted).")
@pass_context
def agent_add(
    ctx: Context, username: str, display_name: str, extension: str, password: str | None
) -> None:
    """Create an agent with a PJSIP account for their softphone."""
    import re

    if not re.fullmatch(NAME_PATTERN, username):
        raise click.BadParameter(f"must match {NAME_PATTERN}", param_hint="USERNAME")
    if not extension.isdigit():
        raise click.BadParameter("digits only", param_hint="--extension")
    if password is not None and (problem := password_problem(password, username)):
        raise click.BadParameter(problem, param_hint="--password")
    settings = ctx.settings
    prepare_database(settings)
    storage = build_storage(settings)
    password = password or secrets.token_urlsafe(12)
    try:
        account = storage.agents.add(username, display_name, extension, password)
    except DuplicateAgent as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        storage.engine.dispose()
    asterisk = build_asterisk(settings)
    if asterisk.running_pid() is not None:
        asterisk.render(_accounts(settings))
        asterisk.cli("module reload res_pjsip.so")
    click.echo(f"agent {account.username} (extension {account.extension})")
    # Shown once: the database keeps only its digest (core/sip_auth.py).
    click.echo(f"softphone: user {account.username}, password {password}")


@agent.command("list")
@pass_context
def agent_list(ctx: Context) -> None:
    for account in _accounts(ctx.settings):
        click.echo(f"{account.username}\t{account.extension}\t{account.display_name}")


# -- dial policy -------------------------------------------------------------
@main.group("dial")
def dial() -> None:
    """The dial policy ([dial_policy]): which numbers may be called."""


@dial.command("check")
@click.argument("numbers", nargs=-1, required=True)
@click.option(
    "--region", default="", help="Read national numbers in this country (default: the site's)."
)
@click.option("--countries", default="", help="A queue's or campaign's own list, e.g. US,CA.")
@pass_context
def dial_check(ctx: Context, numbers: tuple[str, ...], region: str, countries: str) -> None:
    """Say whether each number may be dialled under the configured policy, and why not."""
    policy = ctx.settings.dial_policy
    rules = policy.rules([c.strip().upper() for c in countries.split(",") if c.strip()])
    refused = 0
    for raw in numbers:
        verdict = check_number(raw, region.upper() or policy.country, rules)
        if verdict.ok:
            click.echo(f"{raw}\tallowed\t{verdict.number}")
        else:
            refused += 1
            click.echo(f"{raw}\trefused ({verdict.reason})\t{verdict.detail}")
    if refused:
        raise SystemExit(1)


# -- site --------------------------------------------------------------------
@main.group()
def site() -> None:
    """The site's definition: skills, agents' skills, queues, hours, IVR flows, customers."""


@site.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def site_load(ctx: Context, path: Path) -> None:
    """Validate a site file and write it to the database (all or nothing).

    Every prompt a flow or a queue names must be one of Asterisk's sounds or the
    site's own; without Asterisk's sounds (no Asterisk root built yet) only the
    site's own are checked, and the command says so.
    """
    from callcenter.adapters.db.site_config import apply_site
    from callcenter.services.site import SiteError, load_site_file

    settings = ctx.settings
    prompts = build_prompts(settings)()
    if prompts.sounds is None:
        click.echo(
            f"note: no Asterisk sounds at {prompts.searched} (`callcenter pbx up` builds "
            "the Asterisk root): only the site's own prompts (custom/...) were checked",
            err=True,
        )
    try:
        definition = load_site_file(path, prompts)
    except SiteError as exc:
        lines = "\n".join(f"  {problem}" for problem in exc.problems)
        raise click.ClickException(f"{exc.source} is not valid:\n{lines}") from None
    prepare_database(settings)
    storage = build_storage(settings)
    try:
        counts = apply_site(definition, storage.sessions, settings.dial_policy.country)
    finally:
        storage.engine.dispose()
    click.echo("loaded " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    click.echo("a running controller picks the changes up on its next reload")


# -- console users -----------------------------------------------------------
@main.group()
def user() -> None:
    """Console users (agent, supervisor, admin). No default user is ever shipped."""


@contextmanager
def _users(ctx: Context) -> Iterator[Any]:
    """The console users' repository on a migrated database; a refusal is a clean error."""
    from callcenter.adapters.db.users import UserRepository
    from callcenter.core.users import UserError

    settings = ctx.settings
    prepare_database(settings)
    storage = build_storage(settings)
    try:
        yield UserRepository(storage.sessions)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        storage.engine.dispose()


def _read_password(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["agent", "supervisor", "admin"]), required=True)
@click.option("--agent", "agent_name", default="", help="For role agent: the agent they work as.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_context
def user_add(ctx: Context, username: str, role: str, agent_name: str, password_stdin: bool) -> None:
    """Create a console user (the first admin is made this way)."""
    password = _read_password("Password", password_stdin)
    with _users(ctx) as users:
        created = users.add(username, password, role, agent_name)
    click.echo(f"user {created.username} ({created.role}) created")


@user.command("list")
@pass_context
def user_list(ctx: Context) -> None:
    """The console users: name, role, the agent they work as, active or not."""
    with _users(ctx) as users:
        found_users = users.all()
    for found in found_users:
        state = "active" if found.active else "inactive"
        click.echo(f"{found.username}\t{found.role}\t{found.agent or '-'}\t{state}")


@user.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_context
def user_passwd(ctx: Context, username: str, password_stdin: bool) -> None:
    """Set a console user's password; their open sessions end."""
    password = _read_password("New password", password_stdin)
    with _users(ctx) as users:
        users.set_password(username, password)
    click.echo(f"password of {username} changed; their sessions have ended")


@main.group()
def token() -> None:
    """API tokens for machine clients (a TV wallboard, a CRM); each expires."""


@token.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["agent", "supervisor", "admin"]), default="supervisor",
              show_default=True, help="The most the token may do.")  # fmt: skip
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="Days until it expires.")  # fmt: skip
@pass_context
def token_create(ctx: Context, name: str, role: str, days: int) -> None:
    """Create a token; it is shown once (only its hash is stored)."""
    import time

    with _users(ctx) as users:
        value = users.create_token(name, role, time.time() + days * 86400)
    click.echo(value)


@token.command("list")
@pass_context
def token_list(ctx: Context) -> None:
    """The tokens: name, role, created, expires, last used (never their values)."""
    import time

    with _users(ctx) as users:
        tokens = users.tokens()

    def day(at: float | None, none: str) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(at)) if at is not None else none

    now = time.time()
    click.echo("name\trole\tcreated\texpires\tlast used")
    for found in tokens:
        expires = day(found.expires_at, "never") + (" (expired)" if found.expired(now) else "")
        click.echo(
            f"{found.name}\t{found.role}\t{day(found.created_at, '-')}\t{expires}\t"
            f"{day(found.last_used_at, 'never')}"
        )


@token.command("revoke")
@click.argument("name")
@pass_context
def token_revoke(ctx: Context, name: str) -> None:
    """Revoke the token called NAME (machine clients using it get 401 from then on)."""
    with _users(ctx) as users:
        revoked = users.revoke_token(name)
    if not revoked:
        raise click.ClickException(f"no token {name!r}")
    click.echo(f"token {name} revoked")


# -- prompts -----------------------------------------------------------------
@main.group()
def prompt() -> None:
    """The site's own prompts (played as custom/NAME)."""


@prompt.command("say")
@click.argument("name")
@click.argument("text")
@click.option("--voice", default="en-us", show_default=True)
@pass_context
def prompt_say(ctx: Context, name: str, text: str, voice: str) -> None:
    """Make prompt NAME by speaking TEXT (espeak-ng); `pbx up` publishes it."""
    from callcenter.adapters.pbx.prompts import PromptError, speak

    try:
        path = speak(ctx.settings.site_dir, name, text, voice)
    except PromptError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"prompt custom/{name}: {path}")


# -- controller --------------------------------------------------------------
@main.command("run")
@pass_context
def run(ctx: Context) -> None:
    """Run the controller in the foreground (AMI + FastAGI).

    Started as root on an installed state directory (owned by the service user), it
    drops to that user first, as its systemd unit runs it."""
    settings = ctx.settings
    user = drop_to_state_owner(settings.state_dir)
    if user is not None:
        click.echo(f"running as {user} (the state directory's owner)", err=True)
    prepare_database(settings)
    try:
        controller = Controller(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    asyncio.run(controller.run_forever())
    if controller.lost_lock:  # [ha]: the service restarts it, as a standby
        raise click.ClickException(f"this controller lost the active lock: {controller.lost_lock}")


@main.command("demo")
@click.option("--calls", default=6, show_default=True, help="Simulated calls to place.")
@click.option(
    "--linger",
    type=float,
    default=None,
    help="Seconds to keep running after the calls (default: until Ctrl-C).",
)
@pass_context
def demo(ctx: Context, calls: int, linger: float | None) -> None:
    """Start the call center with simulated callers and agents you can watch."""
    from callcenter.demo import run_demo

    settings = ctx.settings
    prepare_database(settings)
    sys.exit(run_demo(settings, calls, linger))


if __name__ == "__main__":
    main()
