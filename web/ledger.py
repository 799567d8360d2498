"""A contract's ledger tab: balance, statement, aging, and forms to post a payment, an adjustment,
a grace period or an installment plan."""

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Optional

from core.db import db
from core.errors import DomainError
from core.jalali import TEHRAN
from core.messages import message_for
from core.permissions import LEDGER_POST, LEDGER_VIEW
from core.regions import Region
from core.text import to_ascii_digits
from ledger import adjustments, queries, terms
from ledger.models import Channel
from ledger.payments import DUPLICATE, PaymentRequest, post_payment
from web.access import can, require_region, requires
from web.fields import JalaliDateField, PersianStringField

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

REQUIRED = _l("This field is required.")
CHANNELS = [(Channel.BANK, _l("Bank")), (Channel.POS, _l("Card reader (POS)")),
            (Channel.INTERNET, _l("Internet")), (Channel.KIOSK, _l("Kiosk"))]
ADJUSTMENT_KINDS = [("debit", _l("Add to the debt")), ("credit", _l("Take from the debt")),
                    ("write_off", _l("Write off")), ("refund", _l("Refund the credit"))]


class RialField(StringField):
    """A whole number of rials, typed in Persian or Latin digits, with or without separators."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = to_ascii_digits((valuelist or [""])[0] or "").replace(",", "").replace("٬", "").strip()
        if raw:
            if not raw.lstrip("-").isdigit():
                raise ValueError(_l("Enter a whole number of rials."))
            self.data = int(raw)

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else str(self.data))


class PaymentForm(FlaskForm):
    channel = SelectField(_l("Channel"), choices=CHANNELS)
    amount = RialField(_l("Amount (rials)"), validators=[InputRequired(REQUIRED)], render_kw={"dir": "ltr"})
    paid_on = JalaliDateField(_l("Paid on"), validators=[InputRequired(REQUIRED)])
    reference = StringField(_l("Bank reference"), validators=[DataRequired(REQUIRED)], render_kw={"dir": "ltr"})
    bill_id = StringField(_l("Bill ID"), validators=[Optional()], render_kw={"dir": "ltr"})
    payment_id = StringField(_l("Payment ID"), validators=[Optional()], render_kw={"dir": "ltr"})


class AdjustmentForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=ADJUSTMENT_KINDS)
    amount = RialField(_l("Amount (rials)"), validators=[InputRequired(REQUIRED)], render_kw={"dir": "ltr"})
    on = JalaliDateField(_l("Date"), validators=[InputRequired(REQUIRED)])
    reason = PersianStringField(_l("Reason"), validators=[DataRequired(REQUIRED)])


class GraceForm(FlaskForm):
    due_on = JalaliDateField(_l("Deadline"), validators=[InputRequired(REQUIRED)])
    amount = RialField(_l("Amount (rials), empty for the whole debt"), validators=[Optional()],
                       render_kw={"dir": "ltr"})
    reason = PersianStringField(_l("Reason"), validators=[DataRequired(REQUIRED)])


class PlanForm(FlaskForm):
    count = RialField(_l("Number of installments"), validators=[InputRequired(REQUIRED)], render_kw={"dir": "ltr"})
    down_payment_percent = RialField(_l("Down payment (percent)"), validators=[Optional()], render_kw={"dir": "ltr"})
    first_due_on = JalaliDateField(_l("First installment due on"), validators=[InputRequired(REQUIRED)])
    reason = PersianStringField(_l("Reason"), validators=[DataRequired(REQUIRED)])


FORMS = {"payment": PaymentForm, "adjustment": AdjustmentForm, "grace": GraceForm, "plan": PlanForm}


def _today():
    return datetime.now(TEHRAN).date()


def _account(contract_id: int, permission: str):
    account = queries.account_of(db.session, contract_id)
    if account is None:
        abort(404)
    require_region(permission, db.session.get(Region, account.region_id) if account.region_id else None)
    return account


def _page(account, failed: tuple[str, FlaskForm] | None = None):
    forms = {name: form_class(formdata=None, prefix=name) for name, form_class in FORMS.items()}
    if failed:
        forms[failed[0]] = failed[1]
    today = _today()
    graces, plans = terms.terms_of(db.session, account.contract_id)
    region = db.session.get(Region, account.region_id) if account.region_id else None
    return render_template(
        "ledger/contract.html", account=account, region=region, today=today,
        standing=queries.standing(account.balance), rows=list(reversed(queries.statement(db.session, account.id))),
        aging=queries.aging(db.session, account.id, today), items=queries.open_items(db.session, account.id),
        graces=[(g, terms.grace_status(db.session, g, today)) for g in graces],
        plans=[(p, terms.plan_status(db.session, p, today), terms.installments_of(db.session, p)) for p in plans],
        forms=forms, may_post=can(LEDGER_POST, region))


@bp.get("/contracts/<int:contract_id>")
@requires(LEDGER_VIEW)
def contract(contract_id: int):
    return _page(_account(contract_id, LEDGER_VIEW))


def _submit(contract_id: int, name: str, act):
    """Validate the named form, run `act(form, account)`, commit once; 422 and nothing saved otherwise."""
    account = _account(contract_id, LEDGER_POST)
    form = FORMS[name](prefix=name)
    if form.validate_on_submit():
        try:
            message = act(form, account)
        except DomainError as error:
            db.session.rollback()
            account = _account(contract_id, LEDGER_POST)
            target = getattr(form, error.field, None) if error.field else None
            if target is not None:
                target.errors = [*target.errors, message_for(error)]
            else:
                form.form_errors.append(message_for(error))
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("ledger.contract", contract_id=contract_id))
    return _page(account, (name, form)), 422


def _limit() -> int:
    return int(current_app.config.get("MADAM_LEDGER_APPROVAL_LIMIT", adjustments.DEFAULT_APPROVAL_LIMIT))


@bp.post("/contracts/<int:contract_id>/payments")
@requires(LEDGER_POST)
def payment(contract_id: int):
    def act(form, account):
        result = post_payment(db.session, current_user, PaymentRequest(
            form.channel.data, form.reference.data, form.amount.data, form.paid_on.data, contract_id=contract_id,
            bill_id=form.bill_id.data or "", payment_id=form.payment_id.data or ""))
        if result.status == DUPLICATE:
            return _("This payment had already been posted.")
        return _("The payment was posted.")

    return _submit(contract_id, "payment", act)


@bp.post("/contracts/<int:contract_id>/adjustments")
@requires(LEDGER_POST)
def adjustment(contract_id: int):
    def act(form, account):
        kind, amount, args = form.kind.data, form.amount.data, (form.reason.data, form.on.data)
        if amount is None or amount <= 0:
            raise DomainError("ledger.amount_invalid", field="amount")
        if kind == "write_off":
            adjustments.write_off(db.session, current_user, contract_id, amount, *args, approval_limit=_limit())
        elif kind == "refund":
            adjustments.refund(db.session, current_user, contract_id, amount, Channel.BANK, *args,
                               approval_limit=_limit())
        else:
            signed = amount if kind == "debit" else -amount
            adjustments.adjust(db.session, current_user, contract_id, signed, *args, approval_limit=_limit())
        return _("The adjustment was posted.")

    return _submit(contract_id, "adjustment", act)


@bp.post("/contracts/<int:contract_id>/grace")
@requires(LEDGER_POST)
def grace(contract_id: int):
    def act(form, account):
        terms.grant_grace_period(db.session, current_user, contract_id, form.due_on.data, _today(),
                                 form.reason.data, amount=form.amount.data)
        return _("The deadline was granted.")

    return _submit(contract_id, "grace", act)


@bp.post("/contracts/<int:contract_id>/plans")
@requires(LEDGER_POST)
def plan(contract_id: int):
    def act(form, account):
        terms.create_installment_plan(db.session, current_user, contract_id, count=form.count.data,
                                      down_payment_percent=form.down_payment_percent.data or 0,
                                      first_due_on=form.first_due_on.data, today=_today(), reason=form.reason.data)
        return _("The installment plan was made.")

    return _submit(contract_id, "plan", act)
