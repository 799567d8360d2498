"""The bank operations over SOAP, driven by a real SOAP client (zeep) reading our WSDL; its HTTP goes
to the Flask test client instead of a network."""

from datetime import date
from urllib.parse import urlsplit

import pytest
import requests
from requests.structures import CaseInsensitiveDict
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

from tests.test_api_helpers import bearer, contract_with_bill, token_for

WSDL_URL = "http://localhost/api/v1/soap/bank?wsdl"


class FlaskTransport(Transport):
    def __init__(self, flask_client, headers):
        super().__init__()
        self.flask_client, self.extra_headers = flask_client, headers

    def load(self, url):
        parts = urlsplit(url)
        return self.flask_client.get(parts.path, query_string=parts.query).data

    def post(self, address, message, headers):
        answer = self.flask_client.post(urlsplit(address).path, data=message, headers={**headers, **self.extra_headers})
        response = requests.Response()
        response.status_code, response._content = answer.status_code, answer.data
        response.headers, response.encoding = CaseInsensitiveDict(answer.headers), "utf-8"
        return response


def soap_client(flask_client, token, language=None):
    return Client(WSDL_URL, transport=FlaskTransport(flask_client, bearer(token, language)),
                  settings=Settings(strict=True))


def test_the_wsdl_describes_the_three_operations(client):
    response = client.get("/api/v1/soap/bank?wsdl")
    assert response.status_code == 200 and b"BillInquiry" in response.data
    service = soap_client(client, "mdm_unused")
    operations = set(service.service._binding._operations)
    assert operations == {"BillInquiry", "PaymentNotification", "Reconciliation"}


def test_inquiry_notification_and_a_duplicate_over_soap(client, session, demo):
    bill_id, payment_id, _ = contract_with_bill(session)
    service = soap_client(client, token_for(session, ["ledger.view", "ledger.post"]))
    owed = service.service.BillInquiry(billId=bill_id, paymentId=payment_id)
    assert (owed.amount, owed.status, owed.period) == (450_000, "payable", "1403/12")
    paid = service.service.PaymentNotification(billId=bill_id, paymentId=payment_id, amount=450_000,
                                               paidOn=date(2025, 3, 5), reference="SOAP-1")
    assert paid.status == "posted" and paid.settledBillId == [bill_id]
    again = service.service.PaymentNotification(billId=bill_id, paymentId=payment_id, amount=450_000,
                                                paidOn=date(2025, 3, 5), reference="SOAP-1")
    assert again.status == "duplicate" and again.journalId == paid.journalId
    assert service.service.BillInquiry(billId=bill_id, paymentId=payment_id).status == "paid"
    day = service.service.Reconciliation(date=date(2025, 3, 5))
    assert [(p.reference, p.amount, p.status) for p in day] == [("SOAP-1", 450_000, "posted")]


def test_a_conflicting_notification_and_bad_input_are_faults(client, session, demo):
    bill_id, payment_id, _ = contract_with_bill(session)
    service = soap_client(client, token_for(session, ["ledger.view", "ledger.post"]), language="en")
    service.service.PaymentNotification(billId=bill_id, paymentId=payment_id, amount=450_000,
                                        paidOn=date(2025, 3, 5), reference="SOAP-2")
    with pytest.raises(Fault) as conflict:
        service.service.PaymentNotification(billId=bill_id, paymentId=payment_id, amount=450_000,
                                            paidOn=date(2025, 3, 6), reference="SOAP-2")
    assert conflict.value.message == "This reference was already used for a different payment."
    with pytest.raises(Fault) as invalid:
        service.service.BillInquiry(billId="1234567")
    assert invalid.value.message == "This bill ID is not valid."


def test_soap_needs_a_token_with_the_operations_scope(client, session, demo):
    bill_id, payment_id, _ = contract_with_bill(session)
    with pytest.raises(Fault):
        soap_client(client, "mdm_wrong").service.BillInquiry(billId=bill_id)
    viewer = soap_client(client, token_for(session, ["ledger.view"]))
    with pytest.raises(Fault):
        viewer.service.PaymentNotification(billId=bill_id, paymentId=payment_id, amount=450_000,
                                           paidOn=date(2025, 3, 5), reference="SOAP-3")
    elsewhere_bill, _, _ = contract_with_bill(session, contract_id=7009, region="shiraz-2")
    with pytest.raises(Fault):
        viewer.service.BillInquiry(billId=elsewhere_bill)
