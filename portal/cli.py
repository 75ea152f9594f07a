"""`dealer-portal`: administration and serving commands."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup

from common.enums import Role
from portal import create_app, db, jobs, migrate
from portal.services import users


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False,
             add_version_option=False)
def main() -> None:
    """Dealer portal administration."""


def database_url() -> str:
    return current_app.config["DATABASE_URL"]


@main.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to date (creates it on first run)."""
    migrate.upgrade(database_url(), revision)
    click.echo(f"database at {revision}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    migrate.revision(database_url(), message)


@main.command("create-user")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--dealer", "dealer_code", help="Dealer code, for dealer staff and managers.")
@click.option("--region", "region_code", help="Region code, for region managers.")
@click.option("--name", "display_name", default="")
def create_user(username, password, role, dealer_code, region_code, display_name) -> None:
    """Create a portal user."""
    with db.system_session("cli") as session:
        try:
            user = users.create_user(
                session=session, username=username, password=password, role=Role(role),
                dealer_code=dealer_code, region_code=region_code,
                display_name=display_name or username,
            )
        except users.UserError as error:
            raise click.ClickException(str(error)) from error
        session.commit()
        click.echo(f"created {user.username} ({user.role})")


@main.command("seed-demo")
@click.option("--seed", default=20260101, show_default=True, help="Same seed, same data.")
@click.option("--dealers", default=30, show_default=True, type=click.IntRange(1, 1250))
@click.option("--months", default=24, show_default=True, type=click.IntRange(1, 120))
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Last day of data [today].")
@click.option("--volume", default=1.0, show_default=True, type=click.FloatRange(0.05, 8),
              help="Records per dealer relative to the default (about 3,500 per dealer).")
def seed_demo(seed, dealers, months, today, volume) -> None:
    """Fill an EMPTY portal with demo data and print the demo logins.

    Run again on a seeded database, it changes nothing and prints the logins; on a
    database holding other dealers it refuses (use a new database instead).
    """
    from portal.demo import generator
    from portal.demo import seed as demo_seed

    config = generator.DemoConfig(seed=seed, dealers=dealers, months=months, volume=volume,
                                  **({"today": today.date()} if today else {}))
    with db.system_session("seed-demo") as session:
        try:
            result = demo_seed.seed_demo(session=session, config=config, progress=click.echo)
        except demo_seed.DemoDataExists as error:
            raise click.ClickException(str(error)) from error
        session.commit()
    click.echo(demo_seed.format_report(result))


@main.command("run-job")
@click.argument("name")
@click.option("--force", is_flag=True, help="Run even if it ran recently.")
def run_job(name: str, force: bool) -> None:
    """Run one periodic job now (it still runs only once across processes)."""
    if name not in jobs.registered():
        raise click.ClickException(f"unknown job {name!r}; known: {', '.join(jobs.registered())}")
    ran = jobs.run_once(db.engine(), name, force=force)
    click.echo(f"{name}: {'done' if ran else 'skipped (running elsewhere or not due)'}")


@main.command("issue-enrollment")
@click.option("--dealer", "dealer_code", required=True, help="Code of the dealer the agent serves.")
@click.option("--hours", default=24, show_default=True, type=click.IntRange(1, 168),
              help="How long the code stays valid.")
def issue_enrollment(dealer_code: str, hours: int) -> None:
    """Issue a one-time code that enrols one sync agent for a dealer."""
    from portal.services import agents

    with db.system_session("cli") as session:
        dealer = agents.dealer_by_code(session=session, code=dealer_code)
        if dealer is None:
            raise click.ClickException(f"no dealer has the code {dealer_code!r}")
        issued = agents.issue_enrollment(session=session, dealer=dealer, hours=hours, actor="cli")
        session.commit()
    click.echo(f"enrolment code for {dealer.code}: {issued.code}")
    click.echo(f"valid until {issued.expires_at.isoformat(timespec='seconds')} (one agent, once)")


@main.command("seed-catalogue")
def seed_catalogue_command() -> None:
    """Add the seed catalogue (brands, models, trims, colours, options, rules); idempotent."""
    from portal.services.catalogue_seed import seed_catalogue

    with db.system_session("cli") as session:
        added = seed_catalogue(session)
        session.commit()
    click.echo(f"catalogue seeded: {added} rows added")


@main.command("simulate-factory")
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@click.option("--speed", default=1440.0, show_default=True,
              help="Simulated seconds per real second (1440: a production day per minute).")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between passes.")
def simulate_factory(once: bool, speed: float, interval: float) -> None:
    """Move demo orders through production with realistic durations, delays and ETA changes."""
    from portal.services.factory import run_simulator

    run_simulator(session_factory=lambda: db.system_session("factory-simulator"), once=once,
                  speed=speed, interval=interval, echo=click.echo)


@main.command("refresh-metrics")
@click.option("--dealer", "dealer_code", help="Refresh one dealer only (its code).")
@click.option("--months", default=13, show_default=True, type=click.IntRange(1, 60),
              help="How many months back, this one included.")
def refresh_metrics(dealer_code: str | None, months: int) -> None:
    """Recompute the CRM-usage metrics and rollup aggregates now."""
    from portal.services import metrics

    with db.system_session("refresh-metrics") as session:
        dealer_ids = metrics.dealer_ids_for(session, dealer_code)
        if dealer_ids == []:
            raise click.ClickException(f"no dealer with code {dealer_code!r}")

        def progress(done: int, total: int) -> None:
            click.echo(f"\rrefreshing metrics: {done}/{total} dealers", nl=done == total)

        rows = metrics.refresh(session, months=metrics.last_months(metrics.utcnow().date(), months),
                               dealer_ids=dealer_ids, progress=progress)
        session.commit()
    click.echo(f"{rows} dealer-months refreshed")


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def demo(host: str, port: int) -> None:
    """Run the whole product locally: demo data, portal, an enrolled agent, the factory."""
    from portal.demo.launcher import DemoSettings, run_demo

    raise SystemExit(run_demo(current_app._get_current_object(), DemoSettings(host, port),
                              click.echo))


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path) -> None:
    """Write a consistent backup of the database to FILE while the portal runs."""
    from portal import backup

    try:
        backup.backup(database_url(), file)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup written to {file} ({file.stat().st_size} bytes)")


@main.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.confirmation_option(prompt="Replace the whole portal database by this backup?")
def restore_command(file: Path) -> None:
    """Replace the database by the backup FILE (stop the portal first)."""
    from portal import backup

    db.engine().dispose()
    try:
        backup.restore(database_url(), file)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"database restored from {file}; run `dealer-portal db upgrade` if it is older")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="processes (one per core)")
@click.option("--threads", type=click.IntRange(min=1),
              help="request threads per process [1 on SQLite, 2 on PostgreSQL]")
def serve(host: str, port: int, workers: int, threads: int | None) -> None:
    """Serve the portal with the production WSGI server (gunicorn)."""
    from portal.server import default_threads, run_gunicorn

    run_gunicorn(host=host, port=port, workers=workers,
                 threads=threads or default_threads(database_url()))
