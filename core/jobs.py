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
