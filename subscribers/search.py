"""One search box for the whole registry.

What was typed decides how it is matched:

- **digits** (subscription number, file number, bill ID, national ID, mobile, postal code): exact or
  prefix match on each identifier, through b-tree `text_pattern_ops` indexes — exact hits first;
- **a meter serial** (Latin letters and digits): prefix on the serial;
- **words** (names, addresses): fuzzy, typo-tolerant. Both the stored `search_text` and the query are
  normalised by `search_key()` (Persian yeh/kaf, digits, no ZWNJ or half-space, one alef, lower case).
  On PostgreSQL each significant word must match by pg_trgm `word <% search_text` (one GIN bitmap
  scan intersecting the words' candidates: "رضا هومن" costs what "هومن" costs), at most CANDIDATES rows
  are ranked by `word_similarity` of the whole query. A query with a street keyword or a number is
  looked up in addresses first, otherwise in names first; the other follows when results are short.
  Elsewhere (the embedded SQLite default) `_words_fallback` matches each word with LIKE and ranks in
  Python.

`text_search()` is the one function that knows which database it talks to.
"""

import difflib
import re
from dataclasses import dataclass

from sqlalchemy import Select, and_, bindparam, func, or_, select, text

from core.db import is_postgresql
from core.identifiers import normalize_mobile
from core.text import normalize_persian
from subscribers.models import Contract, Meter, MeterInstallation, Premise, Subscriber

_LETTERS = str.maketrans({"\u200c": "", "آ": "ا", "أ": "ا", "إ": "ا", "ٱ": "ا", "ؤ": "و", "ئ": "ی", "ء": None})
_SEPARATORS = re.compile(r"[\s\-_/.,،؛;:()]+")
_SERIAL = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9\-]{3,32}$")
WORD_THRESHOLD = 0.45  # pg_trgm.word_similarity_threshold for each word while searching (default 0.6)
MAX_WORDS = 4
CANDIDATES = 300  # rows ranked at most: bounds the cost of a query as common as one first name
# Words every address has: they would make every row a candidate, so they only rank, never filter.
STOPWORDS = frozenset({"خیابان", "خ", "بلوار", "کوچه", "ک", "پلاک", "شهید", "میدان", "واحد", "منطقه", "بن",
                       "بست", "طبقه", "جنب", "نبش"})
DEFAULT_LIMIT = 20


@dataclass
class Hit:
    subscriber_id: int | None
    score: float
    field: str  # name | address | subscription_no | file_no | bill_id | national_id | mobile | postal_code | serial
    value: str
    contract_id: int | None = None
    meter_id: int | None = None


def search_key(value: str | None) -> str:
    """The form both stored search text and queries take: normalised Persian without ZWNJ, one alef."""
    text_ = (normalize_persian(value or "") or "").translate(_LETTERS).lower()
    return " ".join(text_.split())


def subscriber_search_text(subscriber: Subscriber) -> str:
    return search_key(" ".join([subscriber.first_name, subscriber.last_name, subscriber.legal_name]))


def premise_search_text(premise: Premise) -> str:
    parts = [premise.city, premise.district, premise.street, premise.alley, premise.plaque]
    return search_key(" ".join(p for p in parts if p))


def search(session, query: str, region_ids: list[int] | None = None, limit: int = DEFAULT_LIMIT) -> list[Hit]:
    """The best `limit` matches, best first. `region_ids` limits to those regions (None: everywhere)."""
    key = search_key(query)
    if not key:
        return []
    compact = _SEPARATORS.sub("", key)
    if compact.isdigit():
        return identifier_search(session, compact, region_ids, limit)
    serial = "".join(key.split()).upper()
    if _SERIAL.match(serial):
        hits = serial_search(session, serial, region_ids, limit)
        if hits:
            return hits
    return text_search(session, key, region_ids, limit)


def _scoped(stmt: Select, column, region_ids) -> Select:
    return stmt if region_ids is None else stmt.where(column.in_(region_ids))


def _prefix_score(value: str, typed: str) -> float:
    return 1.0 if value == typed else 0.9 * len(typed) / max(len(value), 1)


def identifier_search(session, digits: str, region_ids, limit: int) -> list[Hit]:
    hits: list[Hit] = []
    mobile = normalize_mobile(digits) if digits.startswith(("98", "9")) else None
    pattern = f"{digits}%"
    for field in ("subscription_no", "file_no", "bill_id"):
        column = getattr(Contract, field)
        stmt = _scoped(select(Contract.id, Contract.subscriber_id, column), Contract.region_id, region_ids)
        stmt = stmt.where(column.like(pattern)).order_by(column, Contract.revision.desc()).limit(limit)
        hits += [Hit(sid, _prefix_score(v, digits), field, v, contract_id=cid)
                 for cid, sid, v in session.execute(stmt)]
    for field, typed in (("national_id", digits), ("mobile", mobile or digits)):
        column = getattr(Subscriber, field)
        stmt = _scoped(select(Subscriber.id, column), Subscriber.region_id, region_ids)
        stmt = stmt.where(column.like(f"{typed}%")).order_by(column).limit(limit)
        hits += [Hit(sid, _prefix_score(v, typed), field, v) for sid, v in session.execute(stmt)]
    stmt = _scoped(select(Premise.subscriber_id, Premise.postal_code), Premise.region_id, region_ids)
    stmt = stmt.where(Premise.postal_code.like(pattern), Premise.subscriber_id.is_not(None))
    hits += [Hit(sid, _prefix_score(v, digits), "postal_code", v)
             for sid, v in session.execute(stmt.order_by(Premise.postal_code).limit(limit))]
    hits += serial_search(session, digits, region_ids, limit)
    return _best(hits, limit)


def serial_search(session, serial: str, region_ids, limit: int) -> list[Hit]:
    """Meters by serial prefix, each with the subscriber whose contract holds it now (if any)."""
    stmt = (
        select(Meter.id, Meter.serial, Contract.subscriber_id, Contract.id)
        .outerjoin(MeterInstallation, and_(MeterInstallation.meter_id == Meter.id,
                                           MeterInstallation.removed_on.is_(None)))
        .outerjoin(Contract, and_(Contract.service_point_id == MeterInstallation.service_point_id,
                                  Contract.status == "active"))
        .where(Meter.serial.like(f"{serial}%"))
        .order_by(Meter.serial)
        .limit(limit)
    )
    stmt = _scoped(stmt, Meter.region_id, region_ids)
    return [Hit(sid, _prefix_score(v, serial), "serial", v, contract_id=cid, meter_id=mid)
            for mid, v, sid, cid in session.execute(stmt)]


def text_search(session, key: str, region_ids, limit: int) -> list[Hit]:
    """Names and addresses, typo-tolerant; the only dialect-specific part of the search."""
    if is_postgresql(session):
        return _words_postgresql(session, key, region_ids, limit)
    return _words_fallback(session, key, region_ids, limit)


def _words_postgresql(session, key: str, region_ids, limit: int) -> list[Hit]:
    """Every significant word must match (`word <% search_text`, fuzzily): GIN intersects the words'
    candidates, so a common first name costs no more than a rare one; the whole query ranks them."""
    session.execute(text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"),
                    {"t": str(WORD_THRESHOLD)})
    words = significant_words(key)
    hits: list[Hit] = []
    for model, field, owner in _targets(key):
        hits += _fuzzy_rows(session, model, field, owner, key, words, region_ids, limit)
        if len(hits) >= limit:
            break
    return _best(hits, limit)


def significant_words(key: str) -> list[str]:
    words = [w for w in key.split() if w not in STOPWORDS]
    return (words or key.split())[:MAX_WORDS]


def _targets(key: str):
    """Names first; a query that names a street (a keyword or a house number) is an address first."""
    names = (Subscriber, "name", Subscriber.id)
    addresses = (Premise, "address", Premise.subscriber_id)
    looks_like_address = any(w in STOPWORDS or w.isdigit() for w in key.split())
    return (addresses, names) if looks_like_address else (names, addresses)


def _fuzzy_rows(session, model, field, owner, key, words, region_ids, limit) -> list[Hit]:
    typed = bindparam("typed", key)
    conditions = [bindparam(f"w{i}", w).op("<%")(model.search_text) for i, w in enumerate(words)]
    candidates = _scoped(select(owner.label("owner"), model.search_text.label("text"), model.id.label("id"))
                         .where(*conditions, owner.is_not(None)).limit(CANDIDATES), model.region_id,
                         region_ids).subquery()
    score = func.word_similarity(typed, candidates.c.text)
    stmt = (select(candidates.c.owner, candidates.c.text, score)
            .order_by(score.desc(), func.similarity(typed, candidates.c.text).desc(), candidates.c.id).limit(limit))
    return [Hit(sid, float(s), field, v) for sid, v, s in session.execute(stmt)]


def _words_fallback(session, key: str, region_ids, limit: int) -> list[Hit]:
    """LIKE on each word (all must appear, else any), ranked by how closely the words match."""
    words = key.split()
    hits: list[Hit] = []
    for model, field, owner in ((Subscriber, "name", Subscriber.id), (Premise, "address", Premise.subscriber_id)):
        likes = [model.search_text.like(f"%{w}%") for w in words]
        for condition in (and_(*likes), or_(*likes)):
            stmt = _scoped(select(owner, model.search_text).where(condition, owner.is_not(None)).limit(2000),
                           model.region_id, region_ids)
            rows = session.execute(stmt).all()
            if rows:
                break
        hits += [Hit(sid, _closeness(key, v), field, v) for sid, v in rows]
    return _best([h for h in hits if h.score >= 0.3], limit)


def _closeness(key: str, stored: str) -> float:
    """Like word_similarity: how well the typed words match the closest words of the stored text."""
    stored_words = stored.split() or [""]
    per_word = [max(difflib.SequenceMatcher(None, w, s).ratio() for s in stored_words) for w in key.split()]
    return sum(per_word) / len(per_word)


def _best(hits: list[Hit], limit: int) -> list[Hit]:
    """One hit per subscriber (its best), then meters without one; best first."""
    best: dict[object, Hit] = {}
    for hit in hits:
        key = hit.subscriber_id if hit.subscriber_id is not None else ("meter", hit.meter_id)
        if key not in best or hit.score > best[key].score:
            best[key] = hit
    return sorted(best.values(), key=lambda h: (-h.score, h.field, h.value))[:limit]
