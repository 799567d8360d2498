"""The `madam` command: serve, worker, db, demo, user, check (and Flask's own commands)."""

import json
import os
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select, text
from werkzeug.serving import run_simple

from core import account_ops
from core.accounts import Role, User
from core.audit import Origin, set_origin
from core.auth import normalize_username
from core.db import db
from core.errors import DomainError
from core.jobs import QUEUES, ping_job
from core.messages import message_for
from core.regions import Region
from core.standard_roles import ensure_standard_roles
from madam.scheduler import start_timer_loop
from madam.settings import REPO_ROOT


def _create_app():
    from madam.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True,
             help="Madam — subscriber affairs for electricity, water and gas distribution companies.")
def main():
    set_origin(Origin("", f"cli:{os.environ.get('USER', '')}"))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn workers (production)")
@with_appcontext
def serve(host, port, workers):
    """Serve the web app: gunicorn in production, Werkzeug's threaded server in development."""
    app = current_app._get_current_object()
    if app.config["MADAM_ENV"] == "production":
        gunicorn = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{host}:{port}",
                    "madam.wsgi:app"]
        os.execvp(sys.executable, gunicorn)  # noqa: S606  (this process becomes gunicorn)
    _deploy_builtin_processes()
    if not app.extensions["madam_jobs"].redis_url:
        start_timer_loop(app)  # embedded mode: no worker, the server fires timers itself
        from api.webhooks import start_retry_loop

        start_retry_loop(app)  # …and retries webhook deliveries
    click.echo(f"Madam is at http://{host}:{port}  (database: {_safe_url()}; jobs: "
               f"{app.extensions['madam_jobs'].name})")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@main.command()
@click.option("--queue", "queues", multiple=True, help=f"queues to listen on (default: all of {', '.join(QUEUES)})")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
@with_appcontext
def worker(queues, burst):
    """Run an RQ worker (needs MADAM_REDIS_URL). Start as many as there are cores to spare."""
    from madam.worker import run_worker

    backend = current_app.extensions["madam_jobs"]
    if not backend.redis_url:
        raise click.ClickException("MADAM_REDIS_URL is not set: jobs run in-process and no worker is needed.")
    app = current_app._get_current_object()
    _deploy_builtin_processes()
    if not burst:
        start_timer_loop(app)
    run_worker(app, queues or QUEUES, burst=burst)


@main.command()
@click.option("--worker-timeout", type=int, default=0,
              help="also ask a worker to answer within this many seconds (RQ only)")
@with_appcontext
def check(worker_timeout):
    """Print which database and queue backend are configured, and whether each is reachable."""
    ok = True
    try:
        db.session.execute(text("select 1"))
        db_state = "reachable"
    except Exception as exc:  # any failure is the answer, not a crash
        ok, db_state = False, f"NOT reachable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    click.echo(f"database: {db.engine.dialect.name} {_safe_url()} — {db_state}")
    backend = current_app.extensions["madam_jobs"]
    reachable, detail = backend.ping()
    ok = ok and reachable
    where = f" {backend.redis_url}" if backend.redis_url else ""
    click.echo(f"queue: {backend.name}{where} — {detail if reachable else 'NOT reachable: ' + detail}")
    if worker_timeout and backend.redis_url and reachable:
        answer = _ask_worker(backend, worker_timeout)
        ok = ok and answer is not None
        click.echo(f"worker: {answer or f'NO answer within {worker_timeout} s — is `madam worker` running?'}")
    click.echo(f"mode: {current_app.config['MADAM_ENV']}; data: {current_app.config['MADAM_DATA_DIR']}")
    sys.exit(0 if ok else 1)


def _ask_worker(backend, timeout: int) -> str | None:
    job = backend.enqueue(ping_job, result_ttl=60)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if job.get_status(refresh=True) == "finished":
            return job.return_value()
        time.sleep(0.2)
    job.delete()  # nobody answered: leave no ping behind for a worker started later
    return None


def _deploy_builtin_processes(echo=False, processes_dir=None, forms_dir=None) -> None:
    """Deploy processes/ and forms/ where their content changed since the last deploy."""
    from engine.catalogue import InvalidProcess, sync_directory

    try:
        results = sync_directory(db.session, None, Path(processes_dir or REPO_ROOT / "processes"),
                                 Path(forms_dir or REPO_ROOT / "forms"))
    except InvalidProcess as error:
        db.session.rollback()
        raise click.ClickException("a built-in process is invalid:\n" + json.dumps(
            error.verdict, ensure_ascii=False, indent=2)) from error
    db.session.commit()
    if echo:
        for version, created in results:
            state = "deployed" if created else "unchanged"
            click.echo(f"{version.process_key} v{version.version}: {state} ({version.source})")


@main.group()
def processes():
    """Built-in processes."""


@processes.command("sync")
@click.option("--processes", "processes_dir", type=click.Path(file_okay=False), help="default: processes/")
@click.option("--forms", "forms_dir", type=click.Path(file_okay=False), help="default: forms/")
@with_appcontext
def processes_sync(processes_dir, forms_dir):
    """Deploy processes/*.bpmn with their forms as new versions where they changed."""
    _deploy_builtin_processes(echo=True, processes_dir=processes_dir, forms_dir=forms_dir)


@processes.command("disconnect-overdue")
@click.option("--threshold", default=5_000_000, show_default=True, type=int, help="rials of overdue debt")
@with_appcontext
def processes_disconnect_overdue(threshold):
    """Start a disconnection request for each contract whose overdue debt (no grace) is above the threshold."""
    from engine.operations.disconnection_rule import start_due_disconnections

    started = start_due_disconnections(db.session, threshold=threshold)
    db.session.commit()
    for instance in started:
        click.echo(f"{instance.business_key} contract {instance.contract_id}")
    click.echo(f"{len(started)} disconnection requests started")


@main.group()
def process():
    """One process file."""


@process.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--forms", "forms_dir", type=click.Path(file_okay=False), help="where the forms are (default: forms/)")
@with_appcontext
def process_validate(files, forms_dir):
    """Print a JSON verdict per file: {"file", "ok", "errors": [{"element", "message"}]}."""
    from sqlalchemy import inspect

    from engine.catalogue import validate_file

    if not inspect(db.engine).has_table("roles"):  # the lanes are checked against the roles in the database
        click.echo("The database is not set up yet: run `madam db upgrade` (and `madam demo load` for the "
                   "standard roles) first.", err=True)
        sys.exit(2)
    ok = True
    for name in files:
        verdict = validate_file(db.session, Path(name), Path(forms_dir) if forms_dir else REPO_ROOT / "forms")
        ok = ok and verdict["ok"]
        click.echo(json.dumps({key: verdict[key] for key in ("file", "ok", "errors")}, ensure_ascii=False))
    sys.exit(0 if ok else 1)


def _safe_url() -> str:
    return db.engine.url.render_as_string(hide_password=True)


@main.group()
def demo():
    """Demo data."""


@demo.command("load")
@with_appcontext
def demo_load():
    """Create (or bring up to date) the demo utility: regions, roles and one user per role."""
    from madam.demo import DEMO_PASSWORD, load_demo, load_demo_billing_activity
    from madam.demo_requests import load_demo_requests

    users = load_demo(db.session)
    db.session.commit()
    load_demo_billing_activity(db.session)
    db.session.commit()
    started = load_demo_requests(db.session)
    db.session.commit()
    if started:
        click.echo(f"{started} requests left in flight in the cartables")
    click.echo(f"Demo users (password for all: {DEMO_PASSWORD}):")
    for user, role in users:
        click.echo(f"  {user.username:<12} {role.name_en:<20} {user.full_name}")


@main.group()
def ledger():
    """The ledger."""


@ledger.command("import-bank-file")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--channel", default="bank", show_default=True)
@with_appcontext
def ledger_import_bank_file(path, channel):
    """Post a bank's payment file (CSV: bill ID, payment ID, amount, date, reference); one line per result.
    A bad line is reported and skipped; importing the same file again posts nothing twice."""
    from ledger.bank_file import import_bank_file

    results = import_bank_file(db.session, None, Path(path).read_text(encoding="utf-8-sig"), channel=channel,
                               after_chunk=db.session.commit)
    db.session.commit()
    counts: dict[str, int] = {}
    for line in results:
        counts[line.status] = counts.get(line.status, 0) + 1
        if line.status == "failed":
            click.echo(f"line {line.line_no}: {message_for(line.error) if line.error else 'failed'}")
    click.echo(" ".join(f"{status}={n}" for status, n in sorted(counts.items())))
    sys.exit(1 if counts.get("failed") else 0)


@main.group()
def tariff():
    """Tariffs."""


@tariff.command("quote")
@click.option("--tariff", "tariff_path", required=True, help="tariff JSON: one version or a list of versions")
@click.option("--usage", "usage_path", required=True, help="usage JSON: period, registers, zone, capacity, …")
def tariff_quote(tariff_path, usage_path):
    """Print a bill's lines and totals as JSON (docs/tariffs.md); bad input: field errors, exit code 2."""
    from billing.quote_cli import quote_files

    code, result = quote_files(tariff_path, usage_path)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2), err=bool(code))
    sys.exit(code)


@main.group()
def ids():
    """Bill and payment IDs."""


@ids.command("validate")
@click.argument("bill_id")
@click.argument("payment_id")
def ids_validate(bill_id, payment_id):
    """Print what a bill ID and payment ID encode, or why they are invalid (exit code 2)."""
    from billing.quote_cli import validate_ids

    code, result = validate_ids(bill_id, payment_id)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    sys.exit(code)


@main.group()
def user():
    """Users."""


@user.command("create")
@click.argument("username")
@click.option("--full-name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", "role_code", help="role code, e.g. admin")
@click.option("--region", "region_code", help="region code where the role holds")
@click.option("--national-id")
@click.option("--mobile")
@with_appcontext
def user_create(username, full_name, password, role_code, region_code, national_id, mobile):
    """Create a user, optionally with a role in a region."""
    try:
        new_user = account_ops.create_user(db.session, None, username=username, full_name=full_name,
                                           password=password, national_id=national_id, mobile=mobile)
        if role_code or region_code:
            if not (role_code and region_code):
                raise click.UsageError("--role and --region go together")
            ensure_standard_roles(db.session)
            role = db.session.scalar(select(Role).where(Role.code == role_code))
            region = db.session.scalar(select(Region).where(Region.code == region_code))
            if role is None or region is None:
                raise click.UsageError(f"no role {role_code!r} or no region {region_code!r}")
            account_ops.assign_role(db.session, None, new_user, role, region)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.field or ''}: {message_for(error)}") from error
    db.session.commit()
    click.echo(f"created user {new_user.username}")


@user.command("passwd")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def user_passwd(username, password):
    """Set a user's password (and unlock the account)."""
    target = db.session.scalar(select(User).where(User.username == normalize_username(username)))
    if target is None:
        raise click.ClickException(f"no user {username!r}")
    try:
        account_ops.set_password(db.session, None, target, password)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(message_for(error)) from error
    db.session.commit()
    click.echo(f"password of {target.username} set")


@main.group("api-client")
def api_client():
    """Integration clients of the API (banks, MDM, GIS…) and their tokens."""


@api_client.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, help="a permission code, e.g. ledger.post (repeat)")
@click.option("--region", "regions", multiple=True, required=True, help="a region code; the client reaches below it")
@click.option("--rate-limit", type=int, default=600, show_default=True, help="requests per minute per token")
@click.option("--description", default="")
@with_appcontext
def api_client_create(name, scopes, regions, rate_limit, description):
    """Register a client and print its token (shown this once; only its hash is kept)."""
    from api.clients import create_client

    region_ids = [db.session.scalar(select(Region.id).where(Region.code == code)) for code in regions]
    if None in region_ids:
        raise click.UsageError(f"unknown region among {', '.join(regions)}")
    try:
        client, token = create_client(db.session, None, name, list(scopes), region_ids, description, rate_limit)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.field or ''}: {message_for(error)}") from error
    db.session.commit()
    click.echo(f"created API client {client.name} (id {client.id}); its token, shown only now:")
    click.echo(token)


@api_client.command("list")
@with_appcontext
def api_client_list():
    """The clients, their scopes, regions and live tokens."""
    from api.clients import clients

    for client in clients(db.session):
        live = [t.prefix + "…" for t in client.tokens if t.revoked_at is None]
        click.echo(f"{client.id}\t{client.name}\t{'active' if client.active else 'disabled'}\t"
                   f"{','.join(client.scopes)}\tregions {client.region_ids}\ttokens {' '.join(live) or '-'}")


@main.group()
def webhooks():
    """Webhook deliveries."""


@webhooks.command("deliver")
@with_appcontext
def webhooks_deliver():
    """Send every webhook delivery that is due (first attempts made outside a request, and retries)."""
    from api.webhooks import deliver_due

    done = deliver_due(db.session)
    click.echo(f"{len(done)} deliveries attempted, {sum(d.status == 'delivered' for d in done)} delivered")
