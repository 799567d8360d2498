"""New subscriber (تعریف مشترک جدید) through the engine on PostgreSQL: registered, refused as a duplicate,
refused at verification."""

import pytest
from sqlalchemy import func, select

from engine import runtime
from subscribers.models import Subscriber
from tests.engine_support import region
from tests.test_procedure_helpers import deploy_procedures, open_task, timeline_notes, work

PERSON = {"kind": "person", "first_name": "نرگس", "last_name": "کاظمی", "father_name": "جواد",
          "birth_date": "1990-05-01", "legal_name": "", "national_id": "0084575948", "economic_code": "",
          "registration_no": "", "mobile": "09171112233", "phone": "", "email": "",
          "documents": ["national_card", "birth_certificate"]}


@pytest.fixture
def setup(session, demo):
    deploy_procedures(session)
    return demo


def start(session, setup, identity):
    instance = runtime.start_instance(session, setup["clerk"], "new_subscriber", region(session, "shiraz-1"))
    return work(session, setup["clerk"], instance, "register_identity", identity)


def test_a_verified_person_is_registered_in_the_requests_region(session, setup):
    instance = start(session, setup, PERSON)
    assert open_task(session, instance).task_name == "verify_documents"
    assert session.scalar(select(Subscriber).where(Subscriber.national_id == "0084575948")) is None  # not yet
    work(session, setup["clerk"], instance, "verify_documents", {"verdict": "approve", "verification_note": ""})
    subscriber = session.scalar(select(Subscriber).where(Subscriber.national_id == "0084575948"))
    assert (subscriber.first_name, subscriber.last_name, subscriber.mobile) == ("نرگس", "کاظمی", "09171112233")
    assert subscriber.birth_date.isoformat() == "1990-05-01"
    assert subscriber.region_id == region(session, "shiraz-1").id
    assert instance.status == "completed" and instance.subscriber_id == subscriber.id
    assert "انجام شد: مشترک با شناسه ملی 0084575948 ثبت شد" in timeline_notes(session, instance)


def test_a_national_id_already_on_file_is_refused_with_the_reason(session, setup):
    taken = session.scalar(select(Subscriber).order_by(Subscriber.id))
    before = session.scalar(select(func.count(Subscriber.id)))
    instance = start(session, setup, {**PERSON, "national_id": taken.national_id})
    assert instance.status == "completed"
    assert "رد شد: مشترکی با این کد ملی پیش‌تر ثبت شده است." in timeline_notes(session, instance)
    assert session.scalar(select(func.count(Subscriber.id))) == before


def test_documents_that_do_not_match_are_refused_at_verification(session, setup):
    instance = start(session, setup, PERSON)
    work(session, setup["clerk"], instance, "verify_documents",
         {"verdict": "reject", "verification_note": "عکس کارت ملی با متقاضی مطابقت ندارد"})
    assert instance.status == "completed"
    assert "رد شد: عکس کارت ملی با متقاضی مطابقت ندارد" in timeline_notes(session, instance)
    assert session.scalar(select(Subscriber).where(Subscriber.national_id == "0084575948")) is None


def test_an_invalid_identity_goes_back_to_the_clerk_with_the_problem(session, setup):
    instance = start(session, setup, {**PERSON, "national_id": "0084575949"})  # wrong check digit
    assert open_task(session, instance).task_name == "register_identity"
    assert timeline_notes(session, instance)[-1] == "این کد ملی معتبر نیست."  # why, on the request
    work(session, setup["clerk"], instance, "register_identity", PERSON)
    assert open_task(session, instance).task_name == "verify_documents"
