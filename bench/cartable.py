"""Cartable benchmark: the experts' inbox query and the navigation badge on a large work-item table.

Builds a fresh PostgreSQL database with 1,000,000 completed and 100,000 open work items (by default)
spread over 50 roles and 10 regions (plus the company above them), 200 users holding one to three of
those roles in a region or in the whole company, then times, for every user, the first page of the
cartable (`engine.queries.inbox`, sorted by due time, and once more filtered to overdue items) and the
badge count (`engine.queries.inbox_count`). Prints p50/p95/max of each in milliseconds.

Targets (issue 7): the cartable page's query p95 <= 50 ms, the badge count p95 <= 10 ms.

    .venv/bin/python bench/cartable.py                       # 1M completed + 100k open
    .venv/bin/python bench/cartable.py --completed 100000 --open 10000 --keep
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from core.account_ops import assign_role, create_user, ensure_role  # noqa: E402
from core.accounts import User  # noqa: E402
from core.db import db  # noqa: E402
from core.permissions import forget_grants  # noqa: E402
from core.regions import add_region  # noqa: E402
from engine import queries  # noqa: E402
from madam.app import create_app  # noqa: E402

ROLES, REGIONS, USERS, STEPS = 50, 10, 200, 40


def recreate(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit("the database name must contain 'bench': it is dropped and recreated")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(url: str) -> None:
    parts = urlsplit(url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def organisation(session, rng):
    company = add_region(session, "bench", "شرکت نمونه", "company", None, ["electricity"])
    regions = [add_region(session, f"r{i}", f"امور {i}", "region", company, ["electricity"]) for i in range(REGIONS)]
    roles = [ensure_role(session, None, f"role_{i}", f"نقش {i}", f"Role {i}", ["cartable.use"]) for i in range(ROLES)]
    users = []
    for i in range(USERS):
        user = create_user(session, None, username=f"expert{i}", full_name=f"کارشناس {i}",
                           password="bench-pass-1")  # noqa: S106  (throwaway benchmark users)
        for role in rng.sample(roles, rng.randint(1, 3)):
            assign_role(session, None, user, role, company if rng.random() < 0.1 else rng.choice(regions))
        users.append(user)
    session.commit()
    return [r.id for r in regions], users


def copy_rows(conn, table: str, columns: list[str], rows) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def fill(url: str, region_ids: list[int], completed: int, open_items: int, rng) -> None:
    now = datetime.now(UTC)
    instances = max(1, (completed + open_items) // 10)
    with psycopg.connect(url) as conn:
        version_id = conn.execute(
            "INSERT INTO process_versions (process_key, version, name, content_hash, bpmn, forms, spec, source, "
            "deployed_at) VALUES ('bench', 1, 'روال نمونه', 'x', '', '{}', '{}', 'bench', now()) RETURNING id"
        ).fetchone()[0]
        copy_rows(conn, "process_instances",
                  ["id", "version_id", "process_key", "business_key", "status", "region_id", "state",
                   "lock_version", "created_at", "last_progress_at"],
                  ((i, version_id, "bench", f"1405-{i:07d}", "running", rng.choice(region_ids), b"x", 1,
                    now - timedelta(days=30), now) for i in range(1, instances + 1)))
        user_ids = [row[0] for row in conn.execute("SELECT id FROM users")]

        def items():
            for i in range(1, completed + open_items + 1):
                is_open = i > completed
                created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
                due = created + timedelta(hours=rng.choice((4, 24, 48)))
                claimed = rng.choice(user_ids) if (not is_open or rng.random() < 0.2) else None
                yield (i, rng.randint(1, instances), str(uuid.UUID(int=i)), f"step_{rng.randrange(STEPS)}",
                       f"مرحله {i % STEPS}", f"role_{rng.randrange(ROLES)}", rng.choice(region_ids),
                       "open" if is_open else "completed", claimed, due, created,
                       None if is_open else claimed, None if is_open else due)

        copy_rows(conn, "work_items", ["id", "instance_id", "task_id", "task_name", "title", "role_code",
                                       "region_id", "status", "claimed_by_id", "due_at", "created_at",
                                       "completed_by_id", "completed_at"], items())
        conn.execute("SELECT setval(pg_get_serial_sequence('work_items', 'id'), (SELECT max(id) FROM work_items))")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE work_items")
        conn.execute("VACUUM ANALYZE process_instances")


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def report(name: str, values: list[float], target: float) -> None:
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    verdict = "PASS" if p95 <= target else "MISS"
    print(f"{name:<34} p50 {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms   max {ordered[-1]:7.2f} ms"
          f"   (target p95 <= {target:g} ms) {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/madam_bench_cartable")
    parser.add_argument("--completed", type=int, default=1_000_000)
    parser.add_argument("--open", dest="open_items", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    rng = random.Random(1405)
    recreate(args.database_url)
    data_dir = tempfile.mkdtemp(prefix="madam-bench-cartable-")
    app = create_app(env={"MADAM_DATABASE_URL": args.database_url, "MADAM_DATA_DIR": data_dir})
    try:
        with app.app_context():
            upgrade()
            region_ids, _users = organisation(db.session, rng)
            started = time.perf_counter()
            fill(args.database_url, region_ids, args.completed, args.open_items, rng)
            print(f"filled {args.completed:,} completed + {args.open_items:,} open work items "
                  f"in {time.perf_counter() - started:.1f} s ({ROLES} roles, {REGIONS} regions, {USERS} users)")
            users = db.session.scalars(select(User).order_by(User.id)).all()
            for user in users[:5]:  # warm the plans (each user is measured from a cold start below)
                queries.inbox(db.session, user, queries.InboxFilter())
            page, overdue, badge, sizes = [], [], [], []
            for user in users:  # each measured cold: the user's roles and regions are read again every time
                forget_grants(user)
                page.append(timed(lambda u=user: sizes.append(queries.inbox(db.session, u, queries.InboxFilter())[1])))
                forget_grants(user)
                overdue.append(timed(lambda u=user: queries.inbox(db.session, u, queries.InboxFilter(due="overdue"))))
                forget_grants(user)
                badge.append(timed(lambda u=user: queries.inbox_count(db.session, u)))
                db.session.expire_all()
            print(f"{len(users)} users; open items offered per user: median {statistics.median(sizes):,.0f}, "
                  f"max {max(sizes):,}")
            report("cartable page (first 25, by due)", page, 50)
            report("cartable page, overdue only", overdue, 50)
            report("navigation badge count", badge, 10)
            probe = users[len(users) // 2]
            count_sql = queries.count_offered(probe.id).compile(db.engine, compile_kwargs={"literal_binds": True})
            plan = db.session.execute(text(f"EXPLAIN ANALYZE {count_sql}")).all()
            print("badge query in PostgreSQL alone:", plan[-1][0])
            db.session.remove()
    finally:
        if not args.keep:
            with app.app_context():
                db.engine.dispose()
            drop(args.database_url)


if __name__ == "__main__":
    main()
