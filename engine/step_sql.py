"""The statements of a step on PostgreSQL, written once per shape and run prepared (engine.fastsql): the lock
of a work item with its instance, the start of an instance, and all of a step's writes in one statement."""

import re

from engine.models import Instance, WorkItem

INSTANCE_COLUMNS = tuple(column.key for column in Instance.__table__.columns)
ITEM_COLUMNS = tuple(column.key for column in WorkItem.__table__.columns)
# A version's columns but the large deferred ones (its spec is cached per process: engine.catalogue.specs_for).
VERSION_COLUMNS = ("id", "process_key", "version", "name", "content_hash", "source", "deployed_by_id", "deployed_at")


def psycopg_placeholders(sql: str) -> str:
    """`:name` placeholders (as in SQLAlchemy's text()) as psycopg's `%(name)s`; a literal % doubled."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


def _select_list(alias: str, columns) -> str:
    return ", ".join(f"{alias}.{name}" for name in columns)


# A work item and its instance, both rows locked, with the instance's version, whether the user holds the item's
# role in its region (or a region above it), and the operations already applied for the instance (a service
# task finds its run here instead of asking for it: nobody else adds runs while the instance is locked). After
# waiting for the locks PostgreSQL re-reads the locked rows and evaluates the rest again on them.
LOCK_ITEM_FOR_USER = psycopg_placeholders(f"""
SELECT {_select_list("i", INSTANCE_COLUMNS)}, {_select_list("w", ITEM_COLUMNS)}, {_select_list("v", VERSION_COLUMNS)},
       EXISTS (SELECT FROM assignments JOIN roles ON assignments.role_id = roles.id
                    JOIN regions ON assignments.region_id = regions.id JOIN regions AS here ON here.id = w.region_id
               WHERE assignments.user_id = CAST(:user_id AS integer) AND roles.code = w.role_code
                     AND here.path LIKE regions.path || '%'),
       (SELECT json_agg(json_build_array(r.task_id, r.operation, r.result)) FROM operation_runs AS r
        WHERE r.instance_id = i.id)
FROM work_items AS w JOIN process_instances AS i ON i.id = w.instance_id
     JOIN process_versions AS v ON v.id = i.version_id
WHERE w.id = CAST(:work_item_id AS bigint)
FOR UPDATE OF i, w""")  # noqa: S608 - column names from the models only

# A new instance of the process key's latest version, numbered with the next of the year's business keys (the
# counter's row stays locked until the transaction ends), in one round trip. No row: the process is unknown
# or the year has no counter yet (nothing was written; the caller takes the long way).
START = psycopg_placeholders(f"""
WITH version AS (
    SELECT {", ".join(VERSION_COLUMNS)} FROM process_versions WHERE process_key = CAST(:process_key AS varchar)
    ORDER BY version DESC LIMIT 1),
number AS (
    UPDATE business_key_sequences SET last = last + 1
    WHERE year = CAST(:year AS integer) AND EXISTS (SELECT FROM version)
    RETURNING lpad(CAST(last AS varchar), greatest(6, length(CAST(last AS varchar))), '0') AS padded),
instance AS (
    INSERT INTO process_instances (version_id, process_key, business_key, status, region_id, subscriber_id,
                                   contract_id, initiator_id, state, lock_version, created_at, last_progress_at)
    SELECT version.id, version.process_key, CAST(:year AS varchar) || '-' || number.padded,
           'running', CAST(:region_id AS integer), CAST(:subscriber_id AS bigint), CAST(:contract_id AS bigint),
           CAST(:initiator_id AS integer), CAST('' AS bytea), 1, :now, :now
    FROM version, number
    RETURNING {", ".join(INSTANCE_COLUMNS)})
SELECT {_select_list("instance", INSTANCE_COLUMNS)}, {_select_list("version", VERSION_COLUMNS)}
FROM instance, version""")  # noqa: S608


# PostgreSQL: a step's writes in one statement: the instance row (state, status, version; and when the step
# completes the instance, its completed_at and the reads `engine.signals.instance_completed_reads` asks for,
# evaluated in the same statement), the item completed, the open items no longer ready cancelled, the
# newly ready ones inserted (an item still open is left as it is: ON CONFLICT on the partial unique index of
# open items), a notice to every holder of a new item's role in its region (as notifications.notify_role
# does), the events, the operations' runs; it returns the ids of the items it opened. The instance is locked:
# nothing else changes its items meanwhile.
# One statement text per shape (item completed or not; how many new items, events and runs; the completion's
# reads), every value a
# typed parameter, so that PostgreSQL's generic plan of the prepared statement estimates what a custom plan
# would and is chosen: the statement is then planned once per connection, not at every step.
_STEP_SQL: dict[tuple[bool, bool, int, int, int, tuple[str, ...] | None], str] = {}
NEW_ITEM_COLUMNS = (
    ("task_id", "varchar"),
    ("task_name", "varchar"),
    ("title", "varchar"),
    ("role_code", "varchar"),
    ("form_key", "varchar"),
    ("due_at", "timestamptz"),
)
EVENT_COLUMNS = (
    ("at", "timestamptz"),
    ("actor_id", "integer"),
    ("actor_name", "varchar"),
    ("action", "varchar"),
    ("task_name", "varchar"),
    ("work_item_id", "bigint"),
    ("note", "text"),
    ("data", "json"),
)
RUN_COLUMNS = (("task_id", "varchar"), ("operation", "varchar"), ("result", "json"), ("at", "timestamptz"))


def _values(prefix: str, count: int, columns) -> str:
    return ", ".join(
        "(" + ", ".join(f"CAST(:{prefix}{i}_{name} AS {kind})" for name, kind in columns) + ")" for i in range(count)
    )


def step_sql(shape: tuple[bool, bool, int, int, int, tuple[str, ...] | None]):
    """`shape`: (the instance row written, an item completed, new items, events, runs, and when the step
    completes the instance the SQL expressions to read with it, else None)."""
    statement = _STEP_SQL.get(shape)
    if statement is not None:
        return statement
    with_instance, done, new, events, runs, completion_reads = shape
    ctes = []
    if done:
        ctes.append("""done AS (
    UPDATE work_items SET status = 'completed', completed_by_id = CAST(:done_by AS integer), completed_at = :now,
           claimed_by_id = coalesce(claimed_by_id, CAST(:done_by AS integer))
    WHERE id = CAST(:done_id AS bigint)
    RETURNING id)""")
    still_ready = ", ".join(f"CAST(:n{i}_task_id AS varchar)" for i in range(new))
    ctes.append(f"""cancelled AS (
    UPDATE work_items SET status = 'cancelled'
    WHERE instance_id = CAST(:instance_id AS bigint) AND status = 'open'
          {"AND id <> CAST(:done_id AS bigint)" if done else ""} {f"AND task_id NOT IN ({still_ready})" if new else ""}
    RETURNING id)""")  # noqa: S608 - only placeholders are formatted into these statements
    if new:
        ctes.append(f"""new AS (
    INSERT INTO work_items (instance_id, task_id, task_name, title, role_code, region_id, form_key, status,
                            assignee_id, due_at, created_at)
    SELECT CAST(:instance_id AS bigint), n.task_id, n.task_name, n.title, n.role_code, CAST(:region_id AS integer),
           n.form_key, 'open', NULL, n.due_at, :now
    FROM (VALUES {_values("n", new, NEW_ITEM_COLUMNS)}) AS n(task_id, task_name, title, role_code, form_key, due_at)
    ON CONFLICT (instance_id, task_id) WHERE status = 'open' DO NOTHING
    RETURNING id, role_code, title)""")  # noqa: S608
        ctes.append("""notices AS (
    INSERT INTO notifications (user_id, kind, work_item_id, instance_id, text, created_at)
    SELECT holder.user_id, 'new', new.id, CAST(:instance_id AS bigint), left(new.title, 300), :now
    FROM new CROSS JOIN LATERAL (
        SELECT DISTINCT assignments.user_id
        FROM assignments JOIN roles ON assignments.role_id = roles.id
             JOIN regions ON assignments.region_id = regions.id JOIN users ON assignments.user_id = users.id
        WHERE roles.code = new.role_code AND users.active IS true
          AND (SELECT here.path FROM regions AS here WHERE here.id = CAST(:region_id AS integer))
              LIKE regions.path || '%'
        LIMIT CAST(:fan_out AS integer)) AS holder)""")
    if events:
        ctes.append(f"""events AS (
    INSERT INTO instance_events (instance_id, at, actor_id, actor_name, action, task_name, work_item_id, note, data)
    SELECT CAST(:instance_id AS bigint), e.at, e.actor_id, e.actor_name, e.action, e.task_name, e.work_item_id,
           e.note, e.data
    FROM (VALUES {_values("e", events, EVENT_COLUMNS)})
         AS e(at, actor_id, actor_name, action, task_name, work_item_id, note, data))""")  # noqa: S608
    if runs:
        ctes.append(f"""runs AS (
    INSERT INTO operation_runs (instance_id, task_id, operation, result, at)
    SELECT CAST(:instance_id AS bigint), r.task_id, r.operation, r.result, r.at
    FROM (VALUES {_values("r", runs, RUN_COLUMNS)}) AS r(task_id, operation, result, at))""")  # noqa: S608
    if with_instance:
        completed_at = " completed_at = :now," if completion_reads is not None else ""
        ctes.append(f"""instance AS (
    UPDATE process_instances SET state = :state, status = CAST(:status AS varchar),
           lock_version = lock_version + 1, last_progress_at = :now,{completed_at}
           error_task = CAST(:error_task AS varchar), error_message = CAST(:error_message AS text)
    WHERE id = CAST(:instance_id AS bigint) AND lock_version = CAST(:lock_version AS integer)
    RETURNING lock_version)""")  # noqa: S608
    version = "(SELECT lock_version FROM instance)" if with_instance else "NULL"
    completed = "(SELECT count(*) FROM done)" if done else "1"
    opened = "(SELECT array_agg(id ORDER BY id) FROM new)" if new else "NULL"
    reads = "".join(f", ({expression})" for expression in completion_reads or ())
    query = f"SELECT {version}, {completed}, {opened}{reads}"
    statement = _STEP_SQL[shape] = psycopg_placeholders("WITH " + ",\n".join(ctes) + "\n" + query)
    return statement
