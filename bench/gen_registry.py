"""Registry data generator: N believable subscribers, each with a premise, an electricity service point,
an installed meter and a contract, loaded into PostgreSQL with COPY (not the ORM).

Names come from Faker's Persian (fa_IR) name lists, some with Arabic yeh/kaf as people really type them
(the search text is normalised either way); addresses from a list of Fars streets and alleys named after
people, as Iranian streets are. The database is dropped, recreated and migrated by this script; the
secondary indexes are dropped during COPY and rebuilt afterwards (a GIN index builds much faster
at once than row by row).

    .venv/bin/python bench/gen_registry.py --subscribers 1000000
    .venv/bin/python bench/gen_registry.py --subscribers 200000 --database-url postgresql://…/madam_bench_registry
"""

import argparse
import io
import random
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.identifiers import make_bill_id
from subscribers.search import search_key

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/madam_bench_registry"
TABLES = ("subscribers", "premises", "service_points", "meters", "meter_installations", "contracts")
CITIES = [("شیراز", 29.61, 52.53, 0.55), ("مرودشت", 29.87, 52.80, 0.15), ("کازرون", 29.62, 51.65, 0.1),
          ("فسا", 28.94, 53.65, 0.1), ("جهرم", 28.50, 53.56, 0.1)]
STREET_KINDS = ["خیابان", "بلوار", "خیابان شهید", "بلوار شهید"]
NAMED_STREETS = ["زند", "چمران", "ملاصدرا", "قصردشت", "ارم", "حافظ", "مدرس", "معالی‌آباد", "پاسداران", "ستارخان",
                 "فرهنگ‌شهر", "عفیف‌آباد", "قدوسی", "سینا", "نیایش", "گلستان", "صدرا", "امیرکبیر", "سعدی", "لشکری"]
DISTRICTS = [f"منطقه {n}" for n in range(1, 12)]
MANUFACTURERS = [("کنتورسازی ایران", "EI"), ("الکترونیک افزار آزما", "AF"), ("توس فیوز", "TF"), ("امرن", "AM")]


def names():
    from faker.providers.person.fa_IR import Provider

    first = sorted(set(Provider.first_names_male) | set(Provider.first_names_female))
    return first, sorted(set(Provider.first_names_male)), sorted(set(Provider.last_names))


def arabic_spelling(text: str, rng) -> str:
    """Some records are typed with Arabic yeh and kaf, as happens with old keyboards."""
    return text.replace("ی", "ي").replace("ک", "ك") if rng.random() < 0.1 else text


def national_id(stem: int) -> str:
    digits = f"{stem:09d}"
    remainder = sum(int(digits[i]) * (10 - i) for i in range(9)) % 11
    return digits + str(remainder if remainder < 2 else 11 - remainder)


def admin(url: str, *statements: str) -> None:
    parts = urlsplit(url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def fresh_database(url: str) -> list[tuple[int, str]]:
    """Drop, create, migrate, load the demo regions; returns (region id, region code) of the امورها."""
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to recreate {name!r}: a benchmark database's name contains 'bench'")
    admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    from flask_migrate import upgrade

    from core.db import db
    from madam.app import create_app
    from madam.demo import load_demo

    app = create_app(env={"MADAM_DATA_DIR": tempfile.mkdtemp(prefix="madam-bench-"), "MADAM_DATABASE_URL": url})
    with app.app_context():
        upgrade()
        load_demo(db.session)
        db.session.commit()
        db.engine.dispose()
    with psycopg.connect(url) as conn:
        for table in ("contracts", "meter_installations", "meters", "service_points", "premises", "subscribers",
                      "number_counters"):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608  (the demo's 30; names are constants)
        return conn.execute("SELECT id, code FROM regions WHERE kind = 'region' ORDER BY id").fetchall()


def secondary_indexes(conn) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT LIKE 'pk\\_%%'",
        [list(TABLES)]).fetchall()
    return [(name, definition) for name, definition in rows]


def rows(n: int, regions, seed: int):
    """Yields the six tables' lines (tab-separated COPY text) for subscriber i = 1..n."""
    rng = random.Random(seed)
    first_names, male_names, last_names = names()
    sequences = {region_id: 0 for region_id, _code in regions}
    city_weights = [c[3] for c in CITIES]
    now = "2025-01-01 00:00:00+00"
    for i in range(1, n + 1):
        region_id = regions[i % len(regions)][0]
        first = arabic_spelling(rng.choice(first_names), rng)
        last = arabic_spelling(rng.choice(last_names), rng)
        father = rng.choice(male_names)
        city, lat, lng, _w = rng.choices(CITIES, city_weights)[0]
        street = f"{rng.choice(STREET_KINDS)} {rng.choice(NAMED_STREETS + last_names)}"
        alley = f"کوچه {rng.choice([str(rng.randrange(1, 60)), rng.choice(last_names)])}"
        plaque = str(rng.randrange(1, 400))
        district = rng.choice(DISTRICTS)
        postal = f"{rng.randrange(1, 10)}{rng.randrange(10**9):09d}"
        mobile = f"09{rng.choice(['12', '13', '17', '19', '01', '35', '36'])}{rng.randrange(10**7):07d}"
        birth = f"{rng.randrange(1945, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        subscriber_text = search_key(f"{first} {last}")
        premise_text = search_key(f"{city} {district} {street} {alley} {plaque}")
        manufacturer, prefix = rng.choice(MANUFACTURERS)
        sequences[region_id] += 1
        subscription_no = f"{region_id:03d}{sequences[region_id]:07d}"
        bill_id = make_bill_id(i, 101, 2)
        yield (
            f"{i}\tperson\t{first}\t{last}\t{father}\t{birth}\t\t\t\t{national_id(100000000 + i)}\t{mobile}\t\t\t"
            f"{region_id}\t{subscriber_text}\t{now}\t{now}\n",
            f"{i}\t{i}\tفارس\t{city}\t{district}\t{street}\t{alley}\t{plaque}\t\t{postal}\t"
            f"{lat + rng.uniform(-0.03, 0.03):.6f}\t{lng + rng.uniform(-0.03, 0.03):.6f}\t{region_id}\t"
            f"normal\tresidential\t{premise_text}\t{now}\t{now}\n",
            f"{i}\t{i}\telectricity\t1\t25\t\t\tactive\t{now}\n",
            f"{i}\t{prefix}{10_000_000 + i}\telectricity\t{manufacturer}\tD{rng.randrange(1, 9)}\tdigital\tsingle\t"
            f"f\t6\t1\t"
            f"{rng.randrange(2010, 2025)}\tinstalled\t{region_id}\t{now}\n",
            f"{i}\t{i}\t{i}\t2020-03-20\t\\N\t{{\"single\": 0}}\t\\N\t\t\\N\t\\N\n",
            f"{i}\t{subscription_no}\t1\t{i}\t{bill_id}\t{i}\t{i}\t{region_id}\tresidential\t\\N\tnone\t2020-03-20\t\\N\t"
            f"active\t\t\\N\t{now}\n",
        )


COLUMNS = {
    "subscribers": "id, kind, first_name, last_name, father_name, birth_date, legal_name, economic_code, "
                   "registration_no, national_id, mobile, phone, email, region_id, search_text, created_at, "
                   "updated_at",
    "premises": "id, subscriber_id, province, city, district, street, alley, plaque, unit, postal_code, latitude, "
                "longitude, region_id, climate_zone, building_use, search_text, created_at, updated_at",
    "service_points": "id, premise_id, utility, phases, amperage, pipe_diameter, gas_meter_size, status, created_at",
    "meters": "id, serial, utility, manufacturer, model, kind, register_set, has_reactive, digits, multiplier, "
              "manufacture_year, status, region_id, created_at",
    "meter_installations": "id, meter_id, service_point_id, installed_on, removed_on, initial_readings, "
                           "final_readings, removal_reason, installed_by_id, removed_by_id",
    "contracts": "id, subscription_no, revision, file_no, bill_id, subscriber_id, service_point_id, region_id, "
                 "tariff_type, contracted_demand, discount_category, start_date, end_date, status, close_reason, "
                 "predecessor_id, created_at",
}


def load(url: str, n: int, regions, seed: int, batch: int = 50_000) -> None:
    with psycopg.connect(url) as conn:
        indexes = secondary_indexes(conn)
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("SET session_replication_role = replica")  # no FK triggers while loading known-good rows
        buffers = [io.StringIO() for _ in TABLES]
        generated = rows(n, regions, seed)
        done = 0
        while done < n:
            for _ in range(min(batch, n - done)):
                for buffer, line in zip(buffers, next(generated), strict=True):
                    buffer.write(line)
            done += min(batch, n - done)
            for table, buffer in zip(TABLES, buffers, strict=True):
                with conn.cursor().copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                    copy.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
            print(f"  {done:,} subscribers copied", flush=True)
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            conn.execute(definition)
        conn.commit()
        print(f"  {len(indexes)} indexes rebuilt in {time.perf_counter() - started:.1f} s", flush=True)
        for table in TABLES:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608  (constant names)
                         f"(SELECT max(id) FROM {table}))")
        conn.execute("INSERT INTO number_counters (key, value) VALUES ('file', %s)", [n])
        for region_id, _code in regions:
            count = conn.execute("SELECT count(*) FROM contracts WHERE region_id = %s", [region_id]).fetchone()[0]
            conn.execute("INSERT INTO number_counters (key, value) VALUES (%s, %s)",
                         [f"subscription:{region_id}", count])
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=1403)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    regions = fresh_database(args.database_url)
    print(f"database ready ({len(regions)} regions) in {time.perf_counter() - started:.1f} s", flush=True)
    load(args.database_url, args.subscribers, regions, args.seed)
    elapsed = time.perf_counter() - started
    print(f"generated {args.subscribers:,} subscribers (with premises, service points, meters, installations "
          f"and contracts) in {elapsed:.1f} s ({elapsed / 60:.1f} min)")


if __name__ == "__main__":
    main()
