"""Commands: ``flask --app erp upgrade | setup | create-admin | demo | module ... |
modules | serve | worker | mail-worker | import`` (``modules``: ``module list``)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from .auth.models import User
from .auth.seed import ADMIN, ensure_default_roles
from .backup import backup_command, restore_command
from .db import db
from .demo import DEMO_PASSWORD, database_is_empty, load_demo
from .imports.cli import import_command
from .mail import run_worker
from .migrate import OrphanRevisionError
from .module_cli import list_modules, module_group
from .setup import upgrade_database
from .tasks import run_worker as run_task_worker


def _upgrade_database(app) -> list[str]:
    try:
        return upgrade_database(app)
    except OrphanRevisionError as error:  # a module's code is gone: name it and the fix
        raise click.ClickException(str(error)) from None


@click.command("upgrade")
@with_appcontext
def upgrade_command():
    """Create or upgrade the database to the current code (every enabled module)."""
    new = _upgrade_database(current_app._get_current_object())
    click.echo("Database is up to date." + (f" Newly installed: {', '.join(new)}." if new else ""))


@click.command("setup")
@with_appcontext
def setup_command():
    """Upgrade the database, and load demo data if it has no user yet."""
    app = current_app._get_current_object()
    _upgrade_database(app)
    if database_is_empty():
        load_demo()
        click.echo(f"Demo data loaded: log in as 'admin' with password '{DEMO_PASSWORD}'.")
    else:
        click.echo("Database is up to date; existing data kept.")


@click.command("demo")
@with_appcontext
def demo_command():
    """Load demo data into an empty database."""
    if not database_is_empty():
        raise click.ClickException(
            "The database already has users; demo data is only for an empty one."
        )
    load_demo()
    click.echo("Demo data loaded.")


@click.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
@with_appcontext
def create_admin_command(username, email, name, password):
    """Create a user with the admin role."""
    username, email = username.strip().lower(), email.strip().lower()
    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="password")
    taken = select(User).where((User.username == username) | (User.email == email))
    if db.session.scalar(taken):
        raise click.ClickException(f"A user named {username!r} or with e-mail {email!r} exists.")
    roles = ensure_default_roles()
    user = User(username=username, email=email, name=name, roles=[roles[ADMIN]])
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Admin {username!r} created.")


@click.command("modules")
@with_appcontext
def modules_command():
    """The same as `module list`: every module, enabled or not, installed or not."""
    list_modules()


@click.command("mail-worker")
@click.option("--once", is_flag=True, help="One pass over the due messages, then exit.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Seconds between passes.")
@with_appcontext
def mail_worker_command(once, interval):
    """Send the queued e-mails over SMTP, retrying failures; runs until Ctrl+C."""
    if once:
        click.echo(f"Mail: {run_worker(once=True)}.")
        return
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    click.echo(f"Mail worker: a pass every {interval:g} s; Ctrl+C to stop.")
    run_worker(interval=interval)


@click.command("worker")
@click.option("--threads", type=click.IntRange(min=1, max=32), default=None,
              help="Tasks run at once (default: WORKER_THREADS, 2).")
def worker_command(threads):
    """Run the background worker (imports, mail, clean-ups) until Ctrl+C."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = current_app._get_current_object()
    try:
        run_task_worker(app, threads)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None


@click.command("serve")
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", envvar="PORT", type=click.IntRange(1, 65535), default=5000,
              show_default=True)
@click.option("--workers", envvar="WEB_CONCURRENCY", type=click.IntRange(1, 64), default=2,
              show_default=True, help="gunicorn worker processes.")
@click.option("--dev", is_flag=True, help="Flask's development server (reloader, debugger) "
                                          "instead of gunicorn; never in production.")
def serve_command(host, port, workers, dev):
    """Serve the app with gunicorn and run the background worker; Ctrl+C stops both."""
    from .serve import run

    raise SystemExit(run(host, port, workers, dev))


def init_app(app) -> None:
    for command in (upgrade_command, setup_command, demo_command, create_admin_command,
                    modules_command, mail_worker_command, worker_command, serve_command,
                    backup_command, restore_command):  # erp/backup.py
        app.cli.add_command(command)
    app.cli.add_command(module_group)  # erp/module_cli.py: `flask module list|install|...`
    app.cli.add_command(import_command)  # erp/imports/cli.py: `flask import KIND FILE`
