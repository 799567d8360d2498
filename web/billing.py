"""Billing pages: tariff types, tariff versions (edit a draft, publish), the quote calculator, a
contract's readings and bills with the next bill's preview, the CSV upload of readings, and the
printed bill (A4/A5, HTML and PDF). Every view checks its permission; contracts in the user's regions."""

import json
from datetime import date, datetime
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from billing import bills, readings, tariffs
from billing.calculation import UsageInvalid, quote, usage_from_json
from billing.models import Bill, MeterReading, TariffType, TariffVersion, VersionStatus
from billing.printing import barcode_svg, font_faces_css, render_pdf
from billing.tariff import UTILITY_CLIMATE_ZONES, TariffInvalid
from core.db import db
from core.errors import DomainError
from core.identifiers import bill_barcode
from core.jalali import TEHRAN
from core.messages import message_for
from core.permissions import BILLING_RUN, BILLING_VIEW, TARIFFS_MANAGE, scope_to_regions
from core.regions import Region
from core.text import digits_only, to_ascii_digits
from subscribers.models import Contract, Subscriber
from web.access import can, require_region, requires, user_regions
from web.billing_forms import (
    CSS_PATH,
    LABELS,
    QUOTE_REGISTERS,
    UTILITIES,
    DraftForm,
    EstimateForm,
    IssueForm,
    NewDraftForm,
    OverrideForm,
    ReadingForm,
    RebillForm,
    RenameTypeForm,
    TariffTypeForm,
    UploadForm,
    apply_error,
)
from web.filters import digits

bp = Blueprint("billing", __name__, url_prefix="/billing")

@bp.context_processor
def _labels():
    return {"labels": LABELS}


def _today() -> date:
    return datetime.now(TEHRAN).date()


# --- tariff types -------------------------------------------------------------------------------

@bp.get("/tariff-types")
@requires(TARIFFS_MANAGE)
def tariff_types(form=None, status=200):
    return render_template("billing/tariff_types.html", types=tariffs.tariff_types(db.session),
                           form=form or TariffTypeForm(formdata=None), utilities=dict(UTILITIES)), status


@bp.post("/tariff-types")
@requires(TARIFFS_MANAGE)
def add_tariff_type():
    form = TariffTypeForm()
    if form.validate_on_submit():
        try:
            tariffs.add_tariff_type(db.session, current_user, form.utility.data, form.code.data, form.slug.data,
                                    form.name.data)
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error)
        else:
            db.session.commit()
            flash(_("The tariff type was added."), "success")
            return redirect(url_for(".tariff_types"))
    return tariff_types(form, 422)


@bp.post("/tariff-types/<int:type_id>")
@requires(TARIFFS_MANAGE)
def rename_tariff_type(type_id: int):
    if db.session.get(TariffType, type_id) is None:
        abort(404)
    form = RenameTypeForm()
    if not form.validate_on_submit():
        flash(_("Write the Persian name."), "danger")
        return redirect(url_for(".tariff_types")), 303
    tariffs.rename_tariff_type(db.session, current_user, type_id, form.name.data, form.active.data)
    db.session.commit()
    flash(_("The tariff type was saved."), "success")
    return redirect(url_for(".tariff_types"))


# --- tariff versions ----------------------------------------------------------------------------

def _type_choices():
    names = dict(UTILITIES)
    return [(t.id, f"{names[t.utility]} — {digits(t.code)} {t.name}") for t in tariffs.tariff_types(db.session)]


@bp.get("/tariffs")
@requires(TARIFFS_MANAGE)
def tariff_versions(form=None, status=200):
    if form is None:
        form = NewDraftForm(formdata=None)
    form.tariff_type.choices = _type_choices()
    versions = tariffs.versions_of(db.session)
    return render_template("billing/tariffs.html", versions=versions, form=form, utilities=dict(UTILITIES),
                           any_example=any(v.is_example for v in versions)), status


@bp.post("/tariffs")
@requires(TARIFFS_MANAGE)
def new_draft():
    form = NewDraftForm()
    form.tariff_type.choices = _type_choices()
    if form.validate_on_submit():
        try:
            draft = tariffs.create_draft(db.session, current_user, form.tariff_type.data, form.code.data,
                                         form.effective_from.data, name=form.name.data or "")
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error)
        else:
            db.session.commit()
            return redirect(url_for(".tariff_version", version_id=draft.id))
    return tariff_versions(form, 422)


def _version(version_id: int) -> TariffVersion:
    version = db.session.get(TariffVersion, version_id)
    if version is None:
        abort(404)
    return version


@bp.get("/tariffs/<int:version_id>")
@requires(TARIFFS_MANAGE)
def tariff_version(version_id: int, form=None, errors=None, status=200, structured=None):
    version = _version(version_id)
    if form is None:
        form = DraftForm(formdata=None, effective_from=version.effective_from, name=version.name,
                         tariff_json=json.dumps(version.data, ensure_ascii=False, indent=2))
    errors = errors or []
    if structured is None:
        data = version.data
        structured = {"blocks": [(_text(b.get("upto")), _text(b.get("rate"))) for b in data.get("blocks") or []],
                      "fixed_default": _text((data.get("fixed") or {}).get("default")),
                      "vat_percent": _text((data.get("vat") or {}).get("percent"))}
    structured["blocks"] = list(structured["blocks"]) + [("", "")] * 2
    cell_errors = {e["field"]: e["message"] for e in errors}
    return render_template("billing/tariff_version.html", version=version, form=form, errors=errors,
                           structured=structured, cell_errors=cell_errors, utilities=dict(UTILITIES),
                           draft=version.status == VersionStatus.DRAFT), status


def _text(value) -> str:
    return "" if value is None else str(value)


def _number_or_text(raw: str):
    """What was typed, as a JSON number when it is one (the tariff's check names the field otherwise)."""
    text = to_ascii_digits(raw or "").replace(",", "").replace("٬", "").replace("٫", ".").strip()
    try:
        return int(text)
    except ValueError:
        return text


@bp.post("/tariffs/<int:version_id>/structured")
@requires(TARIFFS_MANAGE)
def save_structured(version_id: int):
    """The draft's blocks, fixed charge and VAT edited as a form; the rest of its JSON is kept."""
    version = _version(version_id)
    if not IssueForm().validate_on_submit():
        abort(400)
    rows = list(zip(request.form.getlist("upto"), request.form.getlist("rate"), strict=False))
    rows = [(upto.strip(), rate.strip()) for upto, rate in rows if upto.strip() or rate.strip()]
    structured = {"blocks": rows, "fixed_default": request.form.get("fixed_default", "").strip(),
                  "vat_percent": request.form.get("vat_percent", "").strip()}
    data = dict(version.data)
    data["blocks"] = [{"upto": _number_or_text(upto) if upto else None, "rate": _number_or_text(rate)}
                      for upto, rate in rows]
    if structured["fixed_default"]:
        data["fixed"] = {**(data.get("fixed") or {}), "default": _number_or_text(structured["fixed_default"])}
    if structured["vat_percent"]:
        data["vat"] = {**(data.get("vat") or {}), "percent": _number_or_text(structured["vat_percent"])}
    try:
        tariffs.save_draft(db.session, current_user, version.id, effective_from=version.effective_from,
                           name=version.name, data=data)
    except TariffInvalid as invalid:
        db.session.rollback()
        return tariff_version(version_id, errors=invalid.errors, status=422, structured=structured)
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "danger")
        return redirect(url_for(".tariff_version", version_id=version_id)), 303
    db.session.commit()
    flash(_("The draft was saved."), "success")
    return redirect(url_for(".tariff_version", version_id=version_id))


@bp.post("/tariffs/<int:version_id>")
@requires(TARIFFS_MANAGE)
def save_draft(version_id: int):
    version = _version(version_id)
    form = DraftForm()
    if not form.validate_on_submit():
        return tariff_version(version_id, form, status=422)
    try:
        data = json.loads(form.tariff_json.data)
    except ValueError as error:
        where = {"line": getattr(error, "lineno", "?"), "column": getattr(error, "colno", "?")}
        form.tariff_json.errors = [*form.tariff_json.errors,
                                   _("This is not valid JSON (line %(line)s, column %(column)s).", **where)]
        return tariff_version(version_id, form, status=422)
    try:
        tariffs.save_draft(db.session, current_user, version.id, effective_from=form.effective_from.data,
                           name=form.name.data or "", data=data)
    except TariffInvalid as invalid:
        db.session.rollback()
        return tariff_version(version_id, form, errors=invalid.errors, status=422)
    except DomainError as error:
        db.session.rollback()
        apply_error(form, error)
        return tariff_version(version_id, form, status=422)
    db.session.commit()
    flash(_("The draft was saved."), "success")
    return redirect(url_for(".tariff_version", version_id=version_id))


@bp.post("/tariffs/<int:version_id>/publish")
@requires(TARIFFS_MANAGE)
def publish(version_id: int):
    _version(version_id)
    form = IssueForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        tariffs.publish(db.session, current_user, version_id)
    except TariffInvalid as invalid:
        db.session.rollback()
        return tariff_version(version_id, errors=invalid.errors, status=422)
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "danger")
        return redirect(url_for(".tariff_version", version_id=version_id)), 303
    db.session.commit()
    flash(_("The version was published. It can no longer be changed."), "success")
    return redirect(url_for(".tariff_version", version_id=version_id))


@bp.post("/tariffs/<int:version_id>/discard")
@requires(TARIFFS_MANAGE)
def discard(version_id: int):
    _version(version_id)
    form = IssueForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        tariffs.discard_draft(db.session, current_user, version_id)
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "danger")
        return redirect(url_for(".tariff_version", version_id=version_id)), 303
    db.session.commit()
    flash(_("The draft was discarded."), "success")
    return redirect(url_for(".tariff_versions"))


# --- quote calculator ---------------------------------------------------------------------------

def _tariff_choices():
    """Every published tariff: (type id:code, label)."""
    rows = db.session.execute(select(TariffVersion.tariff_type_id, TariffVersion.code, TariffType.utility,
                                     TariffType.name).join(TariffType)
                              .where(TariffVersion.status == VersionStatus.PUBLISHED).distinct()
                              .order_by(TariffType.utility, TariffVersion.code)).all()
    names = dict(UTILITIES)
    return [(f"{type_id}:{code}", f"{names[utility]} — {name} ({code})") for type_id, code, utility, name in rows]


@bp.get("/quote")
@requires(BILLING_VIEW)
def quote_page():
    args = request.args
    choices = _tariff_choices()
    chosen = args.get("tariff") or (choices[0][0] if choices else "")
    values = {key: args.get(key, "") for key in ("start", "end", "climate_zone", "capacity_class",
                                                  "discount_category", "contracted", "measured", "brought_forward",
                                                  *QUOTE_REGISTERS)}
    errors, result, versions = {}, None, []
    if chosen and ":" in chosen:
        type_id, code = chosen.split(":", 1)
        versions = db.session.scalars(select(TariffVersion).where(
            TariffVersion.tariff_type_id == int(digits_only(type_id) or 0), TariffVersion.code == code,
            TariffVersion.status == VersionStatus.PUBLISHED).order_by(TariffVersion.effective_from)).all()
    if args.get("calculate") and versions:
        errors, result = _calculate(versions, values)
    utility = versions[0].tariff_type.utility if versions else "electricity"
    return render_template("billing/quote.html", choices=choices, chosen=chosen, values=values, errors=errors,
                           result=result, zones=UTILITY_CLIMATE_ZONES.get(utility, ()), versions=versions,
                           registers=QUOTE_REGISTERS,
                           any_example=any(v.is_example for v in versions)), 422 if errors else 200


def _calculate(versions, values):
    usage = {"start": values["start"], "end": values["end"], "climate_zone": values["climate_zone"] or "normal",
             "capacity_class": values["capacity_class"], "discount_category": values["discount_category"],
             "brought_forward": to_ascii_digits(values["brought_forward"] or "0").replace(",", "").replace("٬", ""),
             "registers": {name: to_ascii_digits(values[name]).replace(",", "").replace("٬", "")
                           for name in QUOTE_REGISTERS if values[name].strip()}}
    if values["contracted"] or values["measured"]:
        usage["demand"] = {"contracted": to_ascii_digits(values["contracted"] or "0"),
                           "measured": to_ascii_digits(values["measured"] or "0")}
    try:
        result = quote([(v.effective_from, v.data) for v in versions], usage_from_json(usage))
    except (UsageInvalid, TariffInvalid) as invalid:
        errors = {}
        for error in invalid.errors:
            errors.setdefault(error["field"].split(".")[-1] if error["field"].startswith("registers.")
                              else error["field"].split(".")[0] or "form", []).append(error["message"])
        return errors, None
    return {}, result


# --- a contract's readings and bills ------------------------------------------------------------

def _contract(contract_id: int, permission: str) -> Contract:
    contract = db.session.get(Contract, contract_id)
    if contract is None:
        abort(404)
    require_region(permission, db.session.get(Region, contract.region_id))
    return contract


def _contract_page(contract: Contract, forms: dict | None = None, status: int = 200):
    forms = forms or {}
    try:
        installed = readings.installed_meter(db.session, contract)
        registers = installed.registers
    except DomainError:
        installed, registers = None, ()
    reading_form = forms.get("reading") or ReadingForm(formdata=None, prefix="reading")
    reading_form.register.choices = [(r, LABELS["register"][r]) for r in registers]
    preview, preview_error = None, None
    try:
        preview = bills.prepare(db.session, contract.id)
    except DomainError as error:
        preview_error = message_for(error)
    region = db.session.get(Region, contract.region_id)
    return render_template(
        "billing/contract.html", contract=contract, region=region, installed=installed,
        subscriber=db.session.get(Subscriber, contract.subscriber_id),
        readings=readings.readings_of(db.session, contract.id), bills=bills.bills_of(db.session, contract.id),
        preview=preview, preview_error=preview_error, may_run=can(BILLING_RUN, region),
        preview_example=bool(preview) and _any_example(preview.version_ids),
        reading_form=reading_form,
        estimate_form=forms.get("estimate") or EstimateForm(formdata=None, prefix="estimate"),
        override_form=OverrideForm(formdata=None, prefix="override"), issue_form=IssueForm(formdata=None),
        rebill_form=forms.get("rebill") or RebillForm(formdata=None, prefix="rebill"),
        tariff_type=tariffs.find_tariff_type(db.session, contract.service_point.utility, contract.tariff_type),
    ), status


@bp.get("")
@requires(BILLING_VIEW)
def index():
    number = digits_only(request.args.get("q", ""))
    if number:
        contract = db.session.scalar(scope_to_regions(
            select(Contract).where((Contract.subscription_no == number) | (Contract.bill_id == number)),
            Contract.region_id, db.session, current_user, BILLING_VIEW).order_by(Contract.revision.desc()).limit(1))
        if contract is not None:
            return redirect(url_for(".contract", contract_id=contract.id))
        flash(_("No contract with this number in your regions."), "warning")
    recent = db.session.execute(scope_to_regions(
        select(Bill, Contract.subscription_no).join(Contract, Contract.id == Bill.contract_id),
        Bill.region_id, db.session, current_user, BILLING_VIEW).order_by(Bill.id.desc()).limit(30)).all()
    return render_template("billing/index.html", recent=recent, q=request.args.get("q", ""))


@bp.get("/contracts/<int:contract_id>")
@requires(BILLING_VIEW)
def contract(contract_id: int):
    return _contract_page(_contract(contract_id, BILLING_VIEW))


def _act(contract: Contract, name: str, form, act, success: str):
    if form.validate_on_submit():
        try:
            act(form)
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error)
        else:
            db.session.commit()
            flash(success, "success")
            return redirect(url_for(".contract", contract_id=contract.id))
    contract = db.session.get(Contract, contract.id)
    return _contract_page(contract, {name: form}, 422)


@bp.post("/contracts/<int:contract_id>/readings")
@requires(BILLING_RUN)
def add_reading(contract_id: int):
    contract = _contract(contract_id, BILLING_RUN)
    form = ReadingForm(prefix="reading")
    form.register.choices = [(r, LABELS["register"][r])
                             for r in readings.installed_meter(db.session, contract).registers]

    def act(form):
        readings.record_reading(db.session, current_user, contract.id, form.register.data, form.read_on.data,
                                form.value.data, source=form.source.data, reader_name=form.reader_name.data or "")

    return _act(contract, "reading", form, act, _("The reading was recorded."))


@bp.post("/contracts/<int:contract_id>/estimate")
@requires(BILLING_RUN)
def estimate(contract_id: int):
    contract = _contract(contract_id, BILLING_RUN)

    def act(form):
        readings.estimate(db.session, current_user, contract.id, form.read_on.data, form.reason.data)

    return _act(contract, "estimate", EstimateForm(prefix="estimate"), act, _("The estimated reading was recorded."))


@bp.post("/readings/<int:reading_id>/override")
@requires(BILLING_RUN)
def override(reading_id: int):
    reading = db.session.get(MeterReading, reading_id)
    if reading is None:
        abort(404)
    contract = _contract(reading.contract_id, BILLING_RUN)
    form = OverrideForm(prefix="override")
    if form.validate_on_submit():
        try:
            readings.override(db.session, current_user, reading.id, form.reason.data)
        except DomainError as error:
            db.session.rollback()
            flash(message_for(error), "danger")
            return redirect(url_for(".contract", contract_id=contract.id)), 303
        db.session.commit()
        flash(_("The reading was accepted for billing."), "success")
        return redirect(url_for(".contract", contract_id=contract.id))
    flash(_("Write why the reading is right."), "danger")
    return redirect(url_for(".contract", contract_id=contract.id)), 303


@bp.post("/contracts/<int:contract_id>/issue")
@requires(BILLING_RUN)
def issue(contract_id: int):
    contract = _contract(contract_id, BILLING_RUN)
    form = IssueForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        bill = bills.issue(db.session, current_user, contract.id, issued_on=_today())
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "danger")
        return redirect(url_for(".contract", contract_id=contract_id)), 303
    db.session.commit()
    flash(_("The bill was issued and posted to the ledger."), "success")
    return redirect(url_for(".bill_print", bill_pk=bill.id))


@bp.post("/bills/<int:bill_pk>/rebill")
@requires(BILLING_RUN)
def rebill(bill_pk: int):
    bill = _bill(bill_pk, BILLING_RUN)
    contract = db.session.get(Contract, bill.contract_id)
    form = RebillForm(prefix="rebill")
    corrections = {}
    for register in bill.readings:
        raw = digits_only(request.form.get(f"correction_{register}", ""))
        if raw:
            corrections[register] = int(raw)

    def act(form):
        bills.cancel_and_rebill(db.session, current_user, bill.id, form.reason.data, on=_today(),
                                corrections=corrections)

    return _act(contract, "rebill", form, act, _("The bill was cancelled and issued again."))


# --- readings upload ----------------------------------------------------------------------------

@bp.route("/readings/upload", methods=["GET", "POST"])
@requires(BILLING_RUN)
def upload():
    form, report = UploadForm(), None
    if request.method == "POST" and form.validate_on_submit():
        upload = request.files.get("file")
        raw = upload.read() if upload else b""
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors = [_("The file must be CSV text in UTF-8.")]
        else:
            if not content.strip():
                form.file.errors = [_("Choose a CSV file with at least one line.")]
            else:
                region_ids = {r.id for r in user_regions(BILLING_RUN)}
                lines = readings.import_csv(db.session, current_user, content, region_ids=region_ids)
                db.session.commit()
                report = [(line, message_for(DomainError(line.message_code, **(line.params or {})))
                           if not line.ok else "") for line in lines]
    status = 422 if form.errors or (request.method == "POST" and report is None) else 200
    return render_template("billing/upload.html", form=form, report=report), status


# --- printed bill -------------------------------------------------------------------------------

def _bill(bill_pk: int, permission: str) -> Bill:
    bill = db.session.get(Bill, bill_pk)
    if bill is None:
        abort(404)
    require_region(permission, db.session.get(Region, bill.region_id))
    return bill


def _any_example(version_ids) -> bool:
    return db.session.scalar(select(TariffVersion.id).where(
        TariffVersion.id.in_(list(version_ids) or [0]), TariffVersion.is_example.is_(True)).limit(1)) is not None


def _print_context(bill: Bill, size: str) -> dict:
    contract = db.session.get(Contract, bill.contract_id)
    digits = bill_barcode(bill.bill_id, bill.payment_id) if bill.payment_id else ""
    return {"bill": bill, "contract": contract, "subscriber": db.session.get(Subscriber, contract.subscriber_id),
            "premise": contract.service_point.premise, "utility": contract.service_point.utility,
            "region": db.session.get(Region, bill.region_id), "tariff_type": db.session.get(TariffType,
                                                                                            bill.tariff_type_id),
            "size": size, "barcode_digits": digits, "barcode": barcode_svg(digits) if digits else "",
            "is_example": _any_example(bill.version_ids)}


def _size() -> str:
    size = request.args.get("size", "a4").lower()
    return size if size in ("a4", "a5") else "a4"


@bp.get("/bills/<int:bill_pk>/print")
@requires(BILLING_VIEW)
def bill_print(bill_pk: int):
    bill = _bill(bill_pk, BILLING_VIEW)
    return render_template("billing/bill_print.html", pdf=False, **_print_context(bill, _size()))


@bp.get("/bills/<int:bill_pk>/pdf")
@requires(BILLING_VIEW)
def bill_pdf(bill_pk: int):
    bill = _bill(bill_pk, BILLING_VIEW)
    css = (Path(current_app.static_folder) / CSS_PATH).read_text(encoding="utf-8")
    html = render_template("billing/bill_print.html", pdf=True, inline_css=font_faces_css() + "\n" + css,
                           **_print_context(bill, _size()))
    filename = f"bill-{bill.bill_id}-{bill.period.replace('/', '-')}-{_size()}.pdf"
    try:
        pdf = render_pdf(html)
    except (ImportError, OSError):  # WeasyPrint or its Pango libraries are missing on this server
        current_app.logger.exception("printing a bill as PDF failed")
        flash(_("PDF is not available on this server; print this page instead."), "warning")
        return redirect(url_for(".bill_print", bill_pk=bill.id, size=_size()))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@bp.app_template_filter("quantity")
def quantity_filter(value) -> str:
    return digits(value).replace(".", "٫") if value not in (None, "") else ""
