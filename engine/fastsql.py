"""The step path's statements on PostgreSQL: prepared statements run on the session's own DBAPI connection (in
its transaction), and the ORM objects a step works on filled in from the rows they return.

SQLAlchemy's execution of a statement (compiled-cache lookup, parameter processing, result set-up, the ORM's
loading) costs 3-9 times the client CPU of psycopg running the same prepared statement; a step runs a handful
of statements, so that overhead was most of an action's client time."""

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import scoped_session
from sqlalchemy.orm.attributes import instance_state, manager_of_class

from core.db import is_postgresql

_CONNECTION = "madam_fastsql_connection"  # session.info: (the transaction, its DBAPI connection)
_POSTGRESQL = "madam_on_postgresql"  # session.info: whether its bind is PostgreSQL


def execute(session, sql: str, params: dict | None = None):
    """Run `sql` (psycopg's `%(name)s` placeholders) prepared, in the session's transaction; returns the cursor.
    Errors are raised as SQLAlchemy's (IntegrityError, OperationalError, ...), as the ORM's would be, and a dropped
    connection is invalidated as SQLAlchemy invalidates it."""
    session = _real(session)
    cursor = _driver_connection(session).cursor()
    try:
        cursor.execute(sql, params, prepare=True)
    except psycopg.Error as exc:
        # SQLAlchemy's own handling: its exception, and a connection the server dropped makes the pool replace
        # every connection opened before it (no ping is made before a checkout: see madam.settings).
        session.connection()._handle_dbapi_exception(exc, sql, params, cursor, None)
        raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc  # not reached
    return cursor


def real_session(session):
    """The Session behind a scoped_session (each use of a scoped_session looks its Session up again)."""
    return session.registry() if isinstance(session, scoped_session) else session


_real = real_session


def on_postgresql(session) -> bool:
    """core.db.is_postgresql, remembered in the session's info (a session keeps its bind; asking the bind each time
    cost more than some of the statements)."""
    info = session.info
    known = info.get(_POSTGRESQL)
    if known is None:
        known = info[_POSTGRESQL] = is_postgresql(session)
    return known


def _driver_connection(session):
    """The psycopg connection of the session's transaction (begun if need be), looked up once per transaction."""
    transaction = session.get_transaction()
    cached = session.info.get(_CONNECTION)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    connection = session.connection().connection.driver_connection
    session.info[_CONNECTION] = (session.get_transaction(), connection)
    return connection


def adopt(session, cls, values: dict):
    """The session's object for the row `values` (every column of `cls`'s table, by attribute name), holding
    exactly these values as committed. The one already in the session is refreshed in place (as a query with
    populate_existing would); otherwise a persistent object is made as the ORM's loading makes one (the steps
    of sqlalchemy.orm.loading._instance for a new row: no __init__, no history, in the identity map)."""
    session = _real(session)
    key = (cls, (values["id"],), None)
    identity_map = session.identity_map
    obj = identity_map.get(key)
    if obj is not None:
        # set_committed_value for each attribute, in one go: the values in, their history and expiry gone.
        state = instance_state(obj)
        state.dict.update(values)
        state._commit(state.dict, values.keys())
        return obj
    obj = manager_of_class(cls).new_instance()
    state = instance_state(obj)
    state.key, state.identity_token, state.session_id = key, None, session.hash_key
    identity_map._add_unpresent(state, key)
    state.dict.update(values)
    state._commit_all(state.dict, identity_map)
    session.dispatch.loaded_as_persistent(session, state)
    return obj
