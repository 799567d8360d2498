"""The bank operations over SOAP 1.1 (document/literal), for banks that speak only SOAP.

GET /api/v1/soap/bank (or ?wsdl) gives the hand-written WSDL; POST takes an envelope with one of
BillInquiry, PaymentNotification, Reconciliation. The caller is authenticated like every API call (a
bearer token in the HTTP Authorization header). A refusal is a SOAP fault (HTTP 500, as SOAP 1.1 has
it; 401 without credentials): faultcode Client for bad input, its message in the caller's language,
the domain's code and field in the detail.
"""

from datetime import date

from flask import Response, g, request
from flask_babel import force_locale, gettext
from flask_login import current_user
from lxml import etree

from api import bp, problems
from api.access import actor, allowed, client, region_ids
from api.bank import inquire, reconciliation_rows, sees_suspense
from core.db import db
from core.errors import DomainError
from core.messages import message_for
from core.permissions import LEDGER_POST, LEDGER_VIEW
from ledger.payments import PaymentRequest, post_payment

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = "urn:madam:bank:v1"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


class SoapFault(Exception):
    def __init__(self, code: str, message: str, *, detail_code: str = "", field: str = "", status: int = 500):
        super().__init__(message)
        self.code, self.message, self.detail_code, self.field, self.status = code, message, detail_code, field, status


def wsdl(location: str) -> str:
    return WSDL_TEMPLATE.replace("{NS}", NS).replace("{LOCATION}", location)


def _envelope(body: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "m": NS})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(body)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _fault(fault: SoapFault) -> Response:
    body = etree.Element(f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(body, "faultcode").text = f"soap:{fault.code}"
    etree.SubElement(body, "faultstring").text = fault.message
    detail = etree.SubElement(body, "detail")
    error = etree.SubElement(detail, f"{{{NS}}}error")
    etree.SubElement(error, f"{{{NS}}}code").text = fault.detail_code
    etree.SubElement(error, f"{{{NS}}}field").text = fault.field
    return Response(_envelope(body), status=fault.status, mimetype="text/xml")


def refusal(status: int, error: str, headers: dict) -> Response:
    with force_locale(problems.locale()):
        response = _fault(SoapFault("Client", str(problems.TITLES[status]), detail_code=error, status=status))
    response.headers.update(headers)
    return response


def _text(element, name: str, required: bool = True) -> str | None:
    child = element.find(f"{{{NS}}}{name}")
    if child is None:
        child = element.find(name)
    value = (child.text or "").strip() if child is not None else ""
    if required and not value:
        raise SoapFault("Client", gettext("The element %(name)s is required.", name=name), detail_code="field.required",
                        field=name)
    return value or None


def _integer(element, name: str) -> int:
    value = _text(element, name)
    if not value.isdigit() or len(value) > 18:
        raise SoapFault("Client", gettext("The element %(name)s must be a whole number.", name=name),
                        detail_code="field.invalid", field=name)
    return int(value)


def _date(element, name: str, required: bool = True) -> date | None:
    value = _text(element, name, required)
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise SoapFault("Client", gettext("The element %(name)s must be a date like 2024-03-20.", name=name),
                        detail_code="field.invalid", field=name) from None


def _add(parent, name: str, value) -> None:
    if value is not None:
        etree.SubElement(parent, f"{{{NS}}}{name}").text = value.isoformat() if isinstance(value, date) else str(value)


def _require(permission: str) -> None:
    if not allowed(permission):
        raise SoapFault("Client", str(problems.TITLES[403]), detail_code="forbidden", status=500)


def bill_inquiry(element) -> etree._Element:
    _require(LEDGER_VIEW)
    g.api_read_only = True
    found = inquire(db.session, _text(element, "billId"), _text(element, "paymentId", required=False))
    if found.region_id is not None and not _in_regions(LEDGER_VIEW, found.region_id):
        raise SoapFault("Client", str(problems.TITLES[403]), detail_code="forbidden")
    out = etree.Element(f"{{{NS}}}BillInquiryResponse")
    for name, value in (("billId", found.bill_id), ("paymentId", found.payment_id), ("contractId", found.contract_id),
                        ("subscriptionNo", found.subscription_no), ("holder", found.holder),
                        ("amount", found.amount), ("balance", found.balance), ("period", found.period),
                        ("dueOn", found.due_on), ("status", found.status)):
        _add(out, name, value)
    return out


def _in_regions(permission: str, region_id: int) -> bool:
    return region_id in region_ids(permission)


def payment_notification(element) -> etree._Element:
    _require(LEDGER_POST)
    from api.ledger_api import region_of_payer

    bill_id = _text(element, "billId")
    region_id = region_of_payer(None, bill_id)
    if region_id is not None and not _in_regions(LEDGER_POST, region_id):
        raise SoapFault("Client", str(problems.TITLES[403]), detail_code="forbidden")
    result = post_payment(db.session, actor(), PaymentRequest(
        channel=_text(element, "channel", required=False) or "bank", reference=_text(element, "reference"),
        amount=_integer(element, "amount"), paid_on=_date(element, "paidOn"), bill_id=bill_id,
        payment_id=_text(element, "paymentId")))
    db.session.commit()
    out = etree.Element(f"{{{NS}}}PaymentNotificationResponse")
    for name, value in (("status", result.status), ("journalId", result.journal_id),
                        ("contractId", result.contract_id), ("amount", result.amount)):
        _add(out, name, value)
    for bill in result.settled_bill_ids:
        _add(out, "settledBillId", bill)
    return out


def reconciliation(element) -> etree._Element:
    _require(LEDGER_VIEW)
    g.api_read_only = True
    rows = reconciliation_rows(db.session, _date(element, "date"), _text(element, "channel", required=False),
                               region_ids(LEDGER_VIEW), sees_suspense(LEDGER_VIEW))
    out = etree.Element(f"{{{NS}}}ReconciliationResponse")
    for payment, status in rows:
        row = etree.SubElement(out, f"{{{NS}}}payment")
        for name, value in (("paidOn", payment.paid_on), ("channel", payment.channel),
                            ("reference", payment.reference), ("billId", payment.bill_id),
                            ("paymentId", payment.payment_id), ("amount", payment.amount),
                            ("contractId", payment.contract_id), ("journalId", payment.journal_id),
                            ("status", status)):
            _add(row, name, value)
    return out


OPERATIONS = {"BillInquiryRequest": bill_inquiry, "PaymentNotificationRequest": payment_notification,
              "ReconciliationRequest": reconciliation}


def handle(data: bytes) -> Response:
    with force_locale(problems.locale()):
        try:
            if client() is None and not current_user.is_authenticated:
                raise SoapFault("Client", str(problems.TITLES[401]), detail_code="unauthorized", status=401)
            try:
                envelope = etree.fromstring(data, parser=_PARSER)
            except etree.XMLSyntaxError:
                raise SoapFault("Client", gettext("The request is not well-formed XML."),
                                detail_code="xml.malformed") from None
            body = envelope.find(f"{{{SOAP_ENV}}}Body")
            operation = body[0] if body is not None and len(body) else None
            name = etree.QName(operation).localname if operation is not None else ""
            if name not in OPERATIONS:
                raise SoapFault("Client", gettext("Unknown operation."), detail_code="operation.unknown")
            return Response(_envelope(OPERATIONS[name](operation)), mimetype="text/xml")
        except SoapFault as fault:
            db.session.rollback()
            return _fault(fault)
        except DomainError as error:
            db.session.rollback()
            return _fault(SoapFault("Client", message_for(error), detail_code=error.code, field=error.field or ""))


@bp.route("/soap/bank", methods=["GET", "POST"])
def soap_bank():
    if request.method == "GET":
        return Response(wsdl(request.url_root.rstrip("/") + "/api/v1/soap/bank"), mimetype="text/xml")
    return handle(request.get_data(cache=False))


soap_bank.required_permission = f"{LEDGER_VIEW} / {LEDGER_POST} (checked per operation)"


WSDL_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions name="MadamBank" targetNamespace="{NS}"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="{NS}">
  <wsdl:documentation>Madam bank integration: bill inquiry, payment notification (idempotent by
    channel and reference), and the day's reconciliation. Authenticate with an API token in the HTTP
    Authorization header (Bearer mdm_...).</wsdl:documentation>
  <wsdl:types>
    <xsd:schema targetNamespace="{NS}" elementFormDefault="qualified">
      <xsd:element name="BillInquiryRequest">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="billId" type="xsd:string"/>
          <xsd:element name="paymentId" type="xsd:string" minOccurs="0"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="BillInquiryResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="billId" type="xsd:string"/>
          <xsd:element name="paymentId" type="xsd:string" minOccurs="0"/>
          <xsd:element name="contractId" type="xsd:long"/>
          <xsd:element name="subscriptionNo" type="xsd:string" minOccurs="0"/>
          <xsd:element name="holder" type="xsd:string" minOccurs="0"/>
          <xsd:element name="amount" type="xsd:long"/>
          <xsd:element name="balance" type="xsd:long"/>
          <xsd:element name="period" type="xsd:string" minOccurs="0"/>
          <xsd:element name="dueOn" type="xsd:date" minOccurs="0"/>
          <xsd:element name="status" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="PaymentNotificationRequest">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="billId" type="xsd:string"/>
          <xsd:element name="paymentId" type="xsd:string"/>
          <xsd:element name="amount" type="xsd:long"/>
          <xsd:element name="paidOn" type="xsd:date"/>
          <xsd:element name="reference" type="xsd:string"/>
          <xsd:element name="channel" type="xsd:string" minOccurs="0"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="PaymentNotificationResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="status" type="xsd:string"/>
          <xsd:element name="journalId" type="xsd:long"/>
          <xsd:element name="contractId" type="xsd:long" minOccurs="0"/>
          <xsd:element name="amount" type="xsd:long"/>
          <xsd:element name="settledBillId" type="xsd:string" minOccurs="0" maxOccurs="unbounded"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="ReconciliationRequest">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="date" type="xsd:date"/>
          <xsd:element name="channel" type="xsd:string" minOccurs="0"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="ReconciliationResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="payment" minOccurs="0" maxOccurs="unbounded">
            <xsd:complexType><xsd:sequence>
              <xsd:element name="paidOn" type="xsd:date"/>
              <xsd:element name="channel" type="xsd:string"/>
              <xsd:element name="reference" type="xsd:string"/>
              <xsd:element name="billId" type="xsd:string"/>
              <xsd:element name="paymentId" type="xsd:string"/>
              <xsd:element name="amount" type="xsd:long"/>
              <xsd:element name="contractId" type="xsd:long" minOccurs="0"/>
              <xsd:element name="journalId" type="xsd:long"/>
              <xsd:element name="status" type="xsd:string"/>
            </xsd:sequence></xsd:complexType>
          </xsd:element>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="error">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="code" type="xsd:string"/>
          <xsd:element name="field" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="BillInquiryIn"><wsdl:part name="parameters" element="tns:BillInquiryRequest"/></wsdl:message>
  <wsdl:message name="BillInquiryOut"><wsdl:part name="parameters" element="tns:BillInquiryResponse"/></wsdl:message>
  <wsdl:message name="PaymentNotificationIn">
    <wsdl:part name="parameters" element="tns:PaymentNotificationRequest"/></wsdl:message>
  <wsdl:message name="PaymentNotificationOut">
    <wsdl:part name="parameters" element="tns:PaymentNotificationResponse"/></wsdl:message>
  <wsdl:message name="ReconciliationIn">
    <wsdl:part name="parameters" element="tns:ReconciliationRequest"/></wsdl:message>
  <wsdl:message name="ReconciliationOut">
    <wsdl:part name="parameters" element="tns:ReconciliationResponse"/></wsdl:message>
  <wsdl:portType name="BankPortType">
    <wsdl:operation name="BillInquiry">
      <wsdl:input message="tns:BillInquiryIn"/><wsdl:output message="tns:BillInquiryOut"/>
    </wsdl:operation>
    <wsdl:operation name="PaymentNotification">
      <wsdl:input message="tns:PaymentNotificationIn"/><wsdl:output message="tns:PaymentNotificationOut"/>
    </wsdl:operation>
    <wsdl:operation name="Reconciliation">
      <wsdl:input message="tns:ReconciliationIn"/><wsdl:output message="tns:ReconciliationOut"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="BankBinding" type="tns:BankPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="BillInquiry">
      <soap:operation soapAction="urn:madam:bank:v1#BillInquiry"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
    <wsdl:operation name="PaymentNotification">
      <soap:operation soapAction="urn:madam:bank:v1#PaymentNotification"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
    <wsdl:operation name="Reconciliation">
      <soap:operation soapAction="urn:madam:bank:v1#Reconciliation"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="MadamBankService">
    <wsdl:port name="BankPort" binding="tns:BankBinding">
      <soap:address location="{LOCATION}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""
