"""“My requests” says how each finished request ended, with the reason its closing step recorded."""

from tests.helpers import login
from tests.test_procedure_helpers import work
from tests.test_procedure_new_connection import setup, start  # noqa: F401  (the fixture and the first step)


def test_my_requests_shows_the_rejection_and_its_reason(client, session, setup):  # noqa: F811
    instance = start(session, setup)
    work(session, setup["clerk"], instance, "check_documents",
         {"documents_complete": "no", "documents_note": "سند مالکیت ارائه نشده است"})
    session.commit()
    login(client, "clerk")
    page = client.get("/requests/mine").get_data(as_text=True)
    row = page[page.index(instance.business_key.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))):]
    assert "رد شد: سند مالکیت ارائه نشده است" in row[:row.index("</tr>")]
