"""The RQ worker entry: jobs run inside the app's context, each in a forked work horse."""

from rq import Queue, Worker

from core.audit import Origin, set_origin
from core.db import db


class AppWorker(Worker):
    """Forks a work horse per job; the horse must not reuse the parent's database connections."""

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)
        set_origin(Origin("", f"worker:{job.id}"))
        return super().main_work_horse(job, queue)


def run_worker(app, queue_names, burst=False) -> None:
    backend = app.extensions["madam_jobs"]
    connection = backend.connection()
    queues = [Queue(name, connection=connection) for name in queue_names]
    with app.app_context():
        AppWorker(queues, connection=connection).work(burst=burst, with_scheduler=True)
