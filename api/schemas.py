"""The API's marshmallow schemas for the ledger, the engine, the bank and the API's own objects
(the registry's are `subscribers.schemas`). `…In` loads a body or query, `…Out` dumps a response."""

from marshmallow import EXCLUDE, Schema, fields, validate

from api.webhooks import EVENTS
from ledger.models import Channel
from subscribers import schemas as reg

CHANNELS = [c.value for c in Channel]
MAX_INT64 = 2**63 - 1
ID = {"strict": True, "validate": validate.Range(min=1, max=999_999_999_999)}
QUERY_ID = {"validate": validate.Range(min=1, max=999_999_999_999)}  # query strings are text: "5" is 5


def _digits(max_length: int):
    return validate.Regexp(rf"^[0-9۰-۹]{{1,{max_length}}}$")


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class PageQuery(_In):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


# --- ledger ---------------------------------------------------------------------------------------

class OpenItemOut(Schema):
    charge_id = fields.Integer()
    kind = fields.String()
    bill_id = fields.String()
    payment_id = fields.String()
    period = fields.String()
    due_on = fields.Date()
    amount = fields.Integer()
    open = fields.Integer()


class AgingOut(Schema):
    not_due = fields.Integer()
    d1_30 = fields.Integer(data_key="1_30")
    d31_60 = fields.Integer(data_key="31_60")
    d61_90 = fields.Integer(data_key="61_90")
    over_90 = fields.Integer()


class BalanceOut(Schema):
    contract_id = fields.Integer()
    account_id = fields.Integer()
    bill_id = fields.String(allow_none=True)
    balance = fields.Integer(metadata={"description": "rials; debt positive, credit negative"})
    standing = fields.String(validate=validate.OneOf(["debtor", "creditor", "settled"]))
    aging = fields.Nested(AgingOut)
    open_items = fields.List(fields.Nested(OpenItemOut))


class StatementQuery(_In):
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class StatementRowOut(Schema):
    journal_id = fields.Integer()
    kind = fields.String()
    effective_on = fields.Date()
    created_at = fields.DateTime()
    reason = fields.String()
    debit = fields.Integer()
    credit = fields.Integer()
    balance = fields.Integer()
    reverses_id = fields.Integer(allow_none=True)
    reversed = fields.Boolean()


class PaymentIn(_In):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    reference = fields.String(required=True, validate=validate.Length(min=1, max=64))
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_INT64))
    paid_on = fields.Date(required=True)
    contract_id = fields.Integer(**ID)
    bill_id = fields.String(validate=_digits(13))
    payment_id = fields.String(validate=_digits(13))


class BankPaymentIn(_In):
    bill_id = fields.String(required=True, validate=_digits(13))
    payment_id = fields.String(required=True, validate=_digits(13))
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_INT64))
    paid_on = fields.Date(required=True)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=64))
    channel = fields.String(load_default="bank", validate=validate.OneOf(CHANNELS))


class PaymentResultOut(Schema):
    status = fields.String(validate=validate.OneOf(["posted", "duplicate", "suspense"]))
    journal_id = fields.Integer()
    contract_id = fields.Integer(allow_none=True)
    amount = fields.Integer()
    settled_bill_ids = fields.List(fields.String())


class PaymentQuery(PageQuery):
    contract_id = fields.Integer(**QUERY_ID)
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    paid_from = fields.Date()
    paid_to = fields.Date()
    reference = fields.String(validate=validate.Length(min=1, max=64))


class PaymentOut(Schema):
    journal_id = fields.Integer()
    channel = fields.String()
    reference = fields.String()
    paid_on = fields.Date()
    amount = fields.Integer()
    contract_id = fields.Integer(allow_none=True)
    bill_id = fields.String()
    payment_id = fields.String()


class TermsStatusOut(Schema):
    state = fields.String(validate=validate.OneOf(["kept", "current", "overdue", "broken"]))
    paid = fields.Integer()
    overdue_count = fields.Integer()
    paid_installments = fields.Integer()


class GraceIn(_In):
    due_on = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    amount = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_INT64))


class GraceOut(Schema):
    id = fields.Integer()
    amount = fields.Integer()
    granted_on = fields.Date()
    due_on = fields.Date()
    reason = fields.String()
    status = fields.Nested(TermsStatusOut)


class InstallmentOut(Schema):
    seq = fields.Integer()
    amount = fields.Integer()
    due_on = fields.Date()
    payment_id = fields.String()


class PlanIn(_In):
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=36))
    down_payment_percent = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=99))
    first_due_on = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    total = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_INT64))


class PlanOut(Schema):
    id = fields.Integer()
    total = fields.Integer()
    down_payment_percent = fields.Integer()
    count = fields.Integer()
    granted_on = fields.Date()
    reason = fields.String()
    status = fields.Nested(TermsStatusOut)
    installments = fields.List(fields.Nested(InstallmentOut))


# --- bank -----------------------------------------------------------------------------------------

class InquiryQuery(_In):
    bill_id = fields.String(required=True, validate=_digits(13))
    payment_id = fields.String(validate=_digits(13))


class InquiryOut(Schema):
    bill_id = fields.String()
    payment_id = fields.String(allow_none=True)
    contract_id = fields.Integer()
    subscription_no = fields.String(allow_none=True)
    holder = fields.String(allow_none=True, metadata={"description": "the subscriber's name, partly hidden"})
    amount = fields.Integer(metadata={"description": "rials to pay now"})
    balance = fields.Integer(metadata={"description": "the contract's whole balance (debt positive)"})
    period = fields.String(allow_none=True)
    due_on = fields.Date(allow_none=True)
    status = fields.String(validate=validate.OneOf(["payable", "paid"]))


class ReconciliationQuery(_In):
    date = fields.Date(required=True)
    channel = fields.String(validate=validate.OneOf(CHANNELS))


# --- engine ---------------------------------------------------------------------------------------

class ProcessOut(Schema):
    process_key = fields.String()
    version = fields.Integer()
    name = fields.String()
    deployed_at = fields.DateTime()


class InstanceQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(["running", "waiting", "completed", "error", "suspended",
                                                    "terminated"]))
    process_key = fields.String(validate=validate.Length(min=1, max=100))
    business_key = fields.String(validate=validate.Length(min=1, max=32))
    contract_id = fields.Integer(**QUERY_ID)
    subscriber_id = fields.Integer(**QUERY_ID)


class InstanceOut(Schema):
    id = fields.Integer()
    process_key = fields.String()
    business_key = fields.String()
    status = fields.String()
    region_id = fields.Integer()
    subscriber_id = fields.Integer(allow_none=True)
    contract_id = fields.Integer(allow_none=True)
    error_task = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    created_at = fields.DateTime()
    last_progress_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class EventOut(Schema):
    at = fields.DateTime()
    actor_name = fields.String()
    action = fields.String()
    task_name = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class WorkItemOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    task_name = fields.String()
    title = fields.String()
    role_code = fields.String()
    region_id = fields.Integer()
    form_key = fields.String(allow_none=True)
    status = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    claimed_by_id = fields.Integer(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class InstanceDetailOut(InstanceOut):
    events = fields.List(fields.Nested(EventOut))
    work_items = fields.List(fields.Nested(WorkItemOut))


class StartIn(_In):
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region_id = fields.Integer(required=True, **ID)
    subscriber_id = fields.Integer(**ID)
    contract_id = fields.Integer(**ID)
    data = fields.Dict(keys=fields.String(validate=validate.Length(max=100)), load_default=dict)


class WorkItemQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(["open", "completed", "cancelled"]))
    role_code = fields.String(validate=validate.Length(min=1, max=64))
    instance_id = fields.Integer(**QUERY_ID)


# --- the API's own objects ------------------------------------------------------------------------

class ClientIn(_In):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    scopes = fields.List(fields.String(validate=validate.Length(max=64)), required=True,
                         validate=validate.Length(min=1, max=50))
    region_ids = fields.List(fields.Integer(**ID), required=True, validate=validate.Length(min=1, max=50))
    rate_limit = fields.Integer(load_default=600, strict=True, validate=validate.Range(min=1, max=100_000))


class ClientOut(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    scopes = fields.List(fields.String())
    region_ids = fields.List(fields.Integer())
    rate_limit = fields.Integer()
    active = fields.Boolean()
    created_at = fields.DateTime()


class ClientCreatedOut(ClientOut):
    token = fields.String(metadata={"description": "shown this once; only its hash is kept"})


class WebhookIn(_In):
    url = fields.String(required=True, validate=validate.Length(min=1, max=500))
    events = fields.List(fields.String(validate=validate.OneOf(EVENTS)), required=True,
                         validate=validate.Length(min=1, max=len(EVENTS)))
    client_id = fields.Integer(**ID)


class WebhookOut(Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    client_id = fields.Integer(allow_none=True)
    active = fields.Boolean()
    created_at = fields.DateTime()


class WebhookCreatedOut(WebhookOut):
    secret = fields.String(metadata={"description": "the HMAC-SHA256 key of X-Madam-Signature"})


class DeliveryQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(["pending", "delivered", "failed"]))


class DeliveryOut(Schema):
    id = fields.Integer()
    subscription_id = fields.Integer()
    event = fields.String()
    payload = fields.Dict()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String()
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)


# --- the registry's detail pages and list filters -------------------------------------------------

class SubscriberQuery(PageQuery):
    q = fields.String(validate=validate.Length(max=200),
                      metadata={"description": "words to search (name, national ID, subscription no…)"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class RegistryListQuery(PageQuery):
    subscriber_id = fields.Integer(**QUERY_ID)


class SubscriberHitOut(reg.HitOut):
    subscriber = fields.Nested(reg.SubscriberOut, allow_none=True)


class SubscriberSearchOut(Schema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    items = fields.List(fields.Nested(reg.SubscriberOut))
    results = fields.List(fields.Nested(SubscriberHitOut))


class PremiseDetailOut(reg.PremiseOut):
    service_points = fields.List(fields.Nested(reg.ServicePointOut))


class ContractHistoryOut(Schema):
    id = fields.Integer()
    revision = fields.Integer()
    subscriber_id = fields.Integer()
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    status = fields.String()


class ContractDetailOut(reg.ContractOut):
    history = fields.List(fields.Nested(ContractHistoryOut))
