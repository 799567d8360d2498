"""Background jobs: RQ on Redis when configured, otherwise run in-process at once.

The embedded default (no Redis) keeps `make run` working on a bare machine; production sets
MADAM_REDIS_URL and runs `madam worker` processes.
"""

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

QUEUES = ("default", "billing", "reports", "webhooks")


def ping_job() -> str:
    """Answers from a worker: proves a worker is running, inside the app, with the database at hand."""
    from sqlalchemy import text

    from core.db import db

    db.session.execute(text("select 1"))
    db.session.rollback()
    return f"pong from {db.engine.dialect.name}"


@dataclass
class JobBackend:
    redis_url: str | None = None

    @property
    def name(self) -> str:
        return "rq" if self.redis_url else "in-process"

    def connection(self):
        from redis import Redis

        return Redis.from_url(self.redis_url)

    def queue(self, name: str = "default"):
        from rq import Queue

        return Queue(name, connection=self.connection())

    def enqueue(self, func, *args, queue: str = "default", **kwargs):
        """Queue `func(*args, **kwargs)`; in-process, run it now and return its result."""
        if self.redis_url:
            return self.queue(queue).enqueue(func, *args, **kwargs)
        log.info("running %s in-process", getattr(func, "__name__", func))
        return func(*args, **kwargs)

    def ping(self) -> tuple[bool, str]:
        if not self.redis_url:
            return True, "jobs run in-process"
        try:
            self.connection().ping()
            return True, "reachable"
        except Exception as exc:  # any failure to reach Redis is reported, not raised
            return False, str(exc)


@dataclass
class QueueState:
    name: str
    queued: int
    started: int
    failed: int
    scheduled: int
    failed_jobs: list  # [(job id, function name, when it failed, the last line of the error)]


def queue_overview(backend: JobBackend, failed_limit: int = 20) -> tuple[list[QueueState], list[dict]]:
    """Each queue's counts and its latest failed jobs, and the workers alive: for the admin's queue page."""
    if not backend.redis_url:
        return [], []
    from rq import Queue, Worker
    from rq.job import Job
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    connection = backend.connection()
    states = []
    for name in QUEUES:
        queue = Queue(name, connection=connection)
        failed_registry = FailedJobRegistry(queue=queue)
        failed_ids = failed_registry.get_job_ids(0, failed_limit - 1)
        failed = []
        for job in Job.fetch_many(failed_ids, connection=connection):
            if job is not None:
                error = (job.latest_result().exc_string if job.latest_result() else "") or ""
                failed.append((job.id, job.func_name, job.ended_at, error.strip().splitlines()[-1:] or [""]))
        states.append(QueueState(name, queue.count, StartedJobRegistry(queue=queue).count, failed_registry.count,
                                 ScheduledJobRegistry(queue=queue).count, failed))
    workers = [{"name": w.name, "state": w.get_state(), "queues": w.queue_names(),
                "current_job": w.get_current_job_id(), "last_heartbeat": w.last_heartbeat}
               for w in Worker.all(connection=connection)]
    return states, workers


def retry_failed(backend: JobBackend, queue_name: str, job_id: str) -> None:
    from rq.registry import FailedJobRegistry

    FailedJobRegistry(queue=backend.queue(queue_name)).requeue(job_id)


def delete_failed(backend: JobBackend, queue_name: str, job_id: str) -> None:
    from rq.registry import FailedJobRegistry

    FailedJobRegistry(queue=backend.queue(queue_name)).remove(job_id, delete_job=True)


def after_commit(session, func, *args, **kwargs) -> None:
    """Call `func(*args, **kwargs)` when `session` next commits — e.g. queue a job that must see what this
    transaction wrote. The jobs queued this way check the state they find, so a call after a later commit
    (when this transaction was rolled back) finds nothing to do."""
    from sqlalchemy import event

    def call(_session):
        func(*args, **kwargs)

    event.listen(session, "after_commit", call, once=True)
