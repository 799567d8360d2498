"""The billing run pages: progress, exceptions in Persian, totals, the bank's file, pause and resume, and
who may see or act on a run."""

import csv
import io
import re
import zlib

import pytest
from sqlalchemy import select

from billing import runs
from billing.run_models import RunStatus
from core.regions import Region
from tests.billing_run_support import ISSUED, PERIOD, billable_contracts
from tests.helpers import csrf_token_from, login


@pytest.fixture
def finished_run(session, demo):
    contracts = billable_contracts(session, demo["billing"])
    region = session.scalar(select(Region).where(Region.code == "shiraz-1"))
    run = runs.create_run(session, demo["billing"], utility="electricity", period=PERIOD, region_ids=[region.id],
                          issued_on=ISSUED)
    runs.approve(session, demo["supervisor"], run.id)
    runs.start(session, demo["supervisor"], run.id)
    session.commit()
    runs.work(run.id)
    session.expire_all()
    return run, contracts


def test_the_run_page_shows_progress_exceptions_and_totals(client, session, finished_run):
    run, contracts = finished_run
    login(client, "billing")
    page = client.get(f"/billing/runs/{run.id}").get_data(as_text=True)
    assert "در انتظار بازبینی" in page  # finished, awaiting review
    persian = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    exceptions = page[page.index('data-testid="exceptions"'):]
    assert exceptions.count("<tr><td") == 2  # the contract without a reading and the one with a flagged reading
    assert all(c.subscription_no.translate(persian) in exceptions for c in contracts[:2])
    assert 'data-testid="summary"' in page
    state = client.get(f"/billing/runs/{run.id}/progress.json").get_json()
    assert (state["billed"], state["skipped"], state["pending"], state["status"]) == (len(contracts) - 2, 2, 0,
                                                                                     "finished")
    listing = client.get("/billing/runs").get_data(as_text=True)
    assert f"/billing/runs/{run.id}" in listing


def test_the_bank_file_lists_every_bill_with_its_ids_and_jalali_due_date(client, session, finished_run):
    run, contracts = finished_run
    login(client, "billing")
    response = client.get(f"/billing/runs/{run.id}/bills.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(contracts) - 2
    assert all(r["bill_id"].isdigit() and r["payment_id"].isdigit() and int(r["amount"]) % 1000 == 0 for r in rows)
    assert all(r["due_date"].startswith("1404/") and r["subscriber"] and r["address"] for r in rows)


def test_pause_and_resume_need_the_run_permission(client, session, demo, finished_run):
    run, _contracts = finished_run
    run.status = RunStatus.RUNNING  # as if its workers were still at it
    session.commit()
    login(client, "clerk")  # may view bills in shiraz-1, may not run billing
    assert client.get(f"/billing/runs/{run.id}").status_code == 200
    page = client.get("/").get_data(as_text=True)
    assert client.post(f"/billing/runs/{run.id}/pause", data={"csrf_token": csrf_token_from(page)}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token_from(page)})
    login(client, "billing")
    page = client.get(f"/billing/runs/{run.id}").get_data(as_text=True)
    assert client.post(f"/billing/runs/{run.id}/pause", data={"csrf_token": csrf_token_from(page)}).status_code == 302
    session.refresh(run)
    assert run.status == RunStatus.PAUSED
    client.post(f"/billing/runs/{run.id}/resume", data={"csrf_token": csrf_token_from(page)})
    session.refresh(run)
    assert run.status == RunStatus.FINISHED  # resumed in-process: nothing was pending, so it closed at once


def test_a_run_beyond_my_regions_is_not_shown(client, session, demo, finished_run):
    login(client, "clerk")  # shiraz-1 only
    company = session.scalar(select(Region).where(Region.code == "demo"))
    other = runs.create_run(session, demo["billing"], utility="water", period=PERIOD, region_ids=[company.id],
                            issued_on=ISSUED)
    session.commit()
    assert client.get(f"/billing/runs/{other.id}").status_code == 404
    assert f"/billing/runs/{other.id}\"" not in client.get("/billing/runs").get_data(as_text=True)


def test_the_queues_page_lists_the_runs_in_progress(client, session, demo, finished_run):
    run, _contracts = finished_run
    login(client, "admin")
    assert "هیچ صدور عمومی‌ای در جریان نیست." in client.get("/admin/queues").get_data(as_text=True)
    run.status = RunStatus.PAUSED
    session.commit()
    page = client.get("/admin/queues").get_data(as_text=True)
    listed = page[page.index('data-testid="billing-runs"'):]
    assert f"/billing/runs/{run.id}" in listed and "متوقف" in listed


def test_the_printable_batch_is_a_pdf_with_a_page_per_bill(client, session, finished_run):
    run, contracts = finished_run
    login(client, "billing")
    page = client.get(f"/billing/runs/{run.id}").get_data(as_text=True)
    assert f"/billing/runs/{run.id}/bills.pdf?part=1" in page
    response = client.get(f"/billing/runs/{run.id}/bills.pdf?part=1")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert _page_count(response.data) == len(contracts) - 2  # one page a bill
    assert client.get(f"/billing/runs/{run.id}/bills.pdf?part=99").status_code == 404


def _page_count(pdf: bytes) -> int:
    """The /Count of the PDF's page tree, which WeasyPrint may keep in a compressed object stream."""
    texts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            texts.append(zlib.decompress(match[1]))
        except zlib.error:
            continue
    counts = [int(n) for text in texts for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", text)]
    counts += [int(n) for text in texts for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", text)]
    return max(counts, default=0)
