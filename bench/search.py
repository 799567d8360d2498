"""Search benchmark: p50/p95 of 200 mixed queries against the registry made by bench/gen_registry.py,
for the real search (subscribers.search.search: pg_trgm + prefix indexes) and, in the same run, for a
naive baseline (ILIKE '%…%' over the same names, addresses, subscription numbers and national IDs;
every 5th query by default, since each baseline query scans the tables: --baseline-every 1 for all).

The queries, drawn from random subscribers with a fixed seed: 70 names with a typo or typed with Arabic
yeh/kaf, 40 partial addresses (street and alley), 45 subscription numbers (whole or the first 8 digits),
45 national IDs (whole or the first 7 digits). "found" counts the queries answered: the subscriber among the first 20
results, or results that what was typed cannot tell from it (the very same name or address, which
repeats in 1M believable records; for a prefix, 20 hits that all start with it).
Targets: p95 <= 50 ms, and p95 at least 20x faster than the baseline's.

    .venv/bin/python bench/gen_registry.py --subscribers 1000000
    .venv/bin/python bench/search.py
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gen_registry import DEFAULT_URL

BASELINE = text("""
SELECT id FROM subscribers WHERE (first_name || ' ' || last_name) ILIKE :pattern OR national_id ILIKE :pattern
UNION SELECT subscriber_id FROM premises WHERE (street || ' ' || alley) ILIKE :pattern
UNION SELECT subscriber_id FROM contracts WHERE subscription_no ILIKE :pattern
LIMIT 20
""")


def typo(word: str, rng) -> str:
    """One slip of the finger: a letter dropped, doubled or swapped with its neighbour, or Arabic yeh/kaf."""
    if len(word) < 4:
        return word.replace("ی", "ي").replace("ک", "ك")
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "double", "swap", "arabic"])
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word.replace("ی", "ي").replace("ک", "ك")


def queries(session, seed: int) -> list[tuple[str, str, int]]:
    """(kind, typed text, the subscriber it should find)."""
    rng = random.Random(seed)
    top = session.scalar(text("SELECT max(id) FROM subscribers"))
    picked = rng.sample(range(1, top + 1), 200)
    rows = {r.id: r for r in session.execute(text(
        "SELECT s.id, s.first_name, s.last_name, s.national_id, p.street, p.alley, c.subscription_no "
        "FROM subscribers s JOIN premises p ON p.subscriber_id = s.id JOIN contracts c ON c.subscriber_id = s.id "
        "WHERE s.id = ANY(:ids)"), {"ids": picked})}
    result = []
    for n, sid in enumerate(picked):
        r = rows[sid]
        if n < 70:
            result.append(("name", f"{r.first_name} {typo(r.last_name, rng)}", sid))
        elif n < 110:
            result.append(("address", f"{r.street.split(' ', 1)[-1]} {r.alley}", sid))
        elif n < 155:
            result.append(("subscription", r.subscription_no if n % 2 else r.subscription_no[:8], sid))
        else:
            result.append(("national_id", r.national_id if n % 2 else r.national_id[:7], sid))
    rng.shuffle(result)
    return result


def answered(session, kind: str, typed: str, sid: int, hits) -> bool:
    """The subscriber is among the results, or what was typed cannot tell it from the results: a hit with
    the very same name (or address), or — for a prefix — every hit starts with what was typed."""
    if any(h.subscriber_id == sid for h in hits):
        return True
    if not hits:
        return False
    if kind in ("subscription", "national_id"):
        return all(h.value.startswith(typed) for h in hits)
    table, owner = ("subscribers", "id") if kind == "name" else ("premises", "subscriber_id")
    target = session.scalar(text(f"SELECT search_text FROM {table} WHERE {owner} = :sid"), {"sid": sid})  # noqa: S608
    return target in {h.value for h in hits}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    value = call()
    return (time.perf_counter() - started) * 1000, value


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-every", type=int, default=5,
                        help="time the baseline on every k-th query (1: all 200; each takes ~1-2 s on 1M)")
    args = parser.parse_args(argv)

    from core.db import db
    from madam.app import create_app
    from subscribers.search import search

    app = create_app(env={"MADAM_DATA_DIR": tempfile.mkdtemp(prefix="madam-bench-"),
                          "MADAM_DATABASE_URL": args.database_url})
    with app.app_context():
        session = db.session
        total = session.scalar(text("SELECT count(*) FROM subscribers"))
        mixed = queries(session, args.seed)
        for _kind, typed, _sid in mixed:  # warm-up: plans, caches
            search(session, typed)
        real, found, by_kind = [], 0, {}
        for kind, typed, sid in mixed:
            ms, hits = timed(lambda typed=typed: search(session, typed))
            real.append(ms)
            by_kind.setdefault(kind, []).append(ms)
            found += answered(session, kind, typed, sid, hits)
        session.rollback()
        baseline, baseline_found = [], 0
        session.execute(text("SELECT 1 FROM subscribers WHERE first_name ILIKE '%x%' LIMIT 1"))
        for _kind, typed, sid in mixed[::args.baseline_every]:
            ms, ids = timed(lambda typed=typed: session.scalars(BASELINE, {"pattern": f"%{typed}%"}).all())
            baseline.append(ms)
            baseline_found += sid in ids
        session.rollback()
        plans = {
            "name": "EXPLAIN SELECT id FROM subscribers WHERE 'علی محمدی' <% search_text",
            "prefix": "EXPLAIN SELECT id FROM contracts WHERE subscription_no LIKE '00400001%'",
        }
        used = {k: " ".join(line.split("(")[0].strip() for line in session.scalars(text(q))
                            if "Index" in line or "Scan" in line) for k, q in plans.items()}
        db.engine.dispose()

    p50, p95 = percentile(real, 50), percentile(real, 95)
    b50, b95 = percentile(baseline, 50), percentile(baseline, 95)
    print(f"subscribers: {total:,}   queries: {len(mixed)} (names with typos 70, partial addresses 40, "
          f"subscription numbers 45, national IDs 45)")
    print(f"search    p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   max {max(real):7.1f} ms   found {found}/{len(mixed)}")
    for kind, values in sorted(by_kind.items()):
        print(f"  {kind:<13} p50 {percentile(values, 50):7.1f} ms   p95 {percentile(values, 95):7.1f} ms")
    print(f"baseline  p50 {b50:7.1f} ms   p95 {b95:7.1f} ms   max {max(baseline):7.1f} ms   "
          f"found {baseline_found}/{len(baseline)}  (ILIKE '%…%' on {len(baseline)} of the same queries)")
    print(f"speed-up at p95: {b95 / p95:.0f}x   (targets: p95 <= 50 ms: {'met' if p95 <= 50 else 'NOT met'}; "
          f">= 20x: {'met' if b95 / p95 >= 20 else 'NOT met'})")
    print(f"plans: names -> {used['name']}; subscription prefix -> {used['prefix']}")
    print(f"statistics: mean {statistics.mean(real):.1f} ms (search), {statistics.mean(baseline):.1f} ms (baseline)")


if __name__ == "__main__":
    main()
