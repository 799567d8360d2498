"""Background jobs: in-process by default, RQ workers on the real Redis when configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

from core.jobs import JobBackend, ping_job
from tests.conftest import TEST_DB_URL, TEST_REDIS_URL

MADAM = str(Path(sys.executable).with_name("madam"))


@pytest.fixture
def redis_queue():
    connection = Redis.from_url(TEST_REDIS_URL)
    connection.flushdb()
    yield Queue("default", connection=connection)
    connection.flushdb()


def test_in_process_jobs_run_at_once(app_ctx):
    assert JobBackend(None).enqueue(ping_job) == "pong from postgresql"


def test_a_worker_runs_queued_jobs_inside_the_app(redis_queue, tmp_path):
    backend = JobBackend(TEST_REDIS_URL)
    job = backend.enqueue(ping_job)
    assert job.get_status() == "queued"
    env = {**os.environ, "MADAM_DATABASE_URL": TEST_DB_URL, "MADAM_REDIS_URL": TEST_REDIS_URL,
           "MADAM_DATA_DIR": str(tmp_path)}
    finished = subprocess.run([MADAM, "worker", "--burst", "--queue", "default"], env=env, timeout=120,
                              capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert job.get_status(refresh=True) == "finished"
    assert job.return_value() == "pong from postgresql"


def test_check_asks_a_worker_and_says_when_none_answers(redis_queue, tmp_path):
    env = {**os.environ, "MADAM_DATABASE_URL": TEST_DB_URL, "MADAM_REDIS_URL": TEST_REDIS_URL,
           "MADAM_DATA_DIR": str(tmp_path)}
    silent = subprocess.run([MADAM, "check", "--worker-timeout", "1"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert silent.returncode == 1 and "NO answer" in silent.stdout
    worker = subprocess.Popen([MADAM, "worker", "--queue", "default"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        answered = subprocess.run([MADAM, "check", "--worker-timeout", "30"], env=env, capture_output=True,
                                  text=True, timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    assert "worker: pong from postgresql" in answered.stdout


def failing_job():
    raise ValueError("the bank file is unreadable")


def test_the_queue_overview_shows_failed_jobs_and_retries_or_deletes_them(redis_queue):
    from rq import SimpleWorker

    from core.jobs import delete_failed, queue_overview, retry_failed

    backend = JobBackend(TEST_REDIS_URL)
    first, second = backend.enqueue(failing_job), backend.enqueue(failing_job)
    SimpleWorker([redis_queue], connection=redis_queue.connection).work(burst=True)
    states, _workers = queue_overview(backend)
    default = next(s for s in states if s.name == "default")
    assert default.failed == 2
    assert {job_id for job_id, *_rest in default.failed_jobs} == {first.id, second.id}
    assert any("the bank file is unreadable" in error[0] for *_rest, error in default.failed_jobs)
    retry_failed(backend, "default", first.id)
    delete_failed(backend, "default", second.id)
    states, _workers = queue_overview(backend)
    default = next(s for s in states if s.name == "default")
    assert (default.failed, default.queued) == (0, 1)
