"""The billing pages' forms, labels and the words for billing's error codes (used by web/billing.py)."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from core.errors import DomainError
from core.jalali import format_jalali_date
from core.messages import message_for, register_messages
from core.text import to_ascii_digits
from core.utilities import Utility
from web.fields import JalaliDateField, PersianStringField

# The user's words for billing's error codes (the tariff's and usage's own errors carry their words).
register_messages({
    "billing.not_found": lambda p: _("There is no such record."),
    "billing.no_contract": lambda p: _("There is no such contract."),
    "billing.utility_invalid": lambda p: _("Choose electricity, water or gas."),
    "billing.type_code_invalid": lambda p: _("The code is up to 8 digits."),
    "billing.type_slug_invalid": lambda p: _("Write the registry's name in Latin letters, digits or underscores."),
    "billing.type_exists": lambda p: _("This utility already has a tariff type with this code or name."),
    "billing.tariff_code_invalid": lambda p: _("The tariff code is Latin letters, digits and dashes (e.g. E1-normal)."),
    "billing.version_published": lambda p: _("This version is published and can no longer be changed."),
    "billing.version_not_after_latest": lambda p: _(
        "A new version must take effect after the latest published one (%(date)s).",
        date=format_jalali_date(p.get("latest"))),
    "billing.no_tariff_in_force": lambda p: _("No published tariff is in force for this period."),
    "billing.tariff_type_unknown": lambda p: _("The contract's tariff type %(type)s is not defined.",
                                               type=p.get("tariff_type")),
    "billing.tariff_invalid": lambda p: _("The tariff has errors; see each field."),
    "billing.usage_invalid": lambda p: _("The usage has errors; see each field."),
    "billing.no_meter": lambda p: _("No meter is installed for this contract."),
    "billing.register_invalid": lambda p: _("This meter's registers are: %(registers)s.",
                                            registers=p.get("registers")),
    "billing.source_invalid": lambda p: _("Choose the source of the reading."),
    "billing.reading_value_invalid": lambda p: _("Enter the reading as a whole number the meter can show."),
    "billing.reading_exists": lambda p: _("This register already has a reading on this day."),
    "billing.reading_before_billed": lambda p: _("A bill already covers this day; cancel it to change its readings."),
    "billing.reason_required": lambda p: _("Write the reason (at least 3 characters)."),
    "billing.reading_billed": lambda p: _("This reading has already been billed."),
    "billing.no_history_to_estimate": lambda p: _("There are no earlier readings to estimate from."),
    "billing.csv_line_malformed": lambda p: _("A line has at least four columns: serial, register, date, value."),
    "billing.csv_meter_unknown": lambda p: _("No active contract in your regions has the meter %(serial)s.",
                                             serial=p.get("serial")),
    "billing.csv_date_invalid": lambda p: _("The date %(value)s is not a Jalali date like 1403/12/30.",
                                            value=p.get("value")),
    "billing.no_new_reading": lambda p: _("There is no new reading of every register since the last bill."),
    "billing.reading_flagged": lambda p: _(
        "A reading of %(registers)s is flagged: accept it with a reason before billing.",
        registers=p.get("registers")),
    "billing.already_billed": lambda p: _("This contract already has a bill for the period %(period)s.",
                                          period=p.get("period")),
    "billing.bill_not_issued": lambda p: _("This bill has already been cancelled."),
    "billing.final_reading_missing": lambda p: _(
        "This meter has several registers: enter the final reading of each (%(registers)s).",
        registers=", ".join(str(LABELS["register"].get(r, r)) for r in (p.get("registers") or "").split(", ") if r)),
    "billing.final_reading_flagged": lambda p: _(
        "The final reading looks wrong (%(flags)s): check the meter, and if the reading is right tick that it "
        "was confirmed on site.", flags="، ".join(str(LABELS["flag"].get(f, f)) for f in p.get("flags") or ())),
    "billing.meter_registers_changed": lambda p: _(
        "The meter was replaced by one with other registers (%(registers)s): bill this period by hand.",
        registers=p.get("registers")),
})

REQUIRED = _l("This field is required.")
UTILITIES = [(Utility.ELECTRICITY.value, _l("Electricity")), (Utility.WATER.value, _l("Water")),
             (Utility.GAS.value, _l("Gas"))]
SOURCES = [("read", _l("Read by the reader")), ("customer", _l("Reported by the customer")),
           ("estimated", _l("Estimated"))]
QUOTE_REGISTERS = ("total", "peak", "mid", "offpeak", "friday_peak")
CSS_PATH = "css/bill.css"
LABELS = {
    "flag": {"negative": _l("Negative consumption"), "rollover": _l("Meter rolled over"),
             "zero": _l("Zero consumption"), "high": _l("Unusually high"), "low": _l("Unusually low"),
             "date_before_previous": _l("Not after the previous reading"), "date_in_future": _l("Date in the future")},
    "source": dict(SOURCES),
    "unit": {"kWh": _l("kWh"), "m³": _l("m³"), "kW": _l("kW"), "day": _l("days"), "%": "٪"},
    "register": {"single": _l("Single"), "total": _l("Total"), "peak": _l("Peak"), "mid": _l("Mid"),
                 "offpeak": _l("Off-peak"), "friday_peak": _l("Friday peak")},
    "status": {"draft": _l("Draft"), "published": _l("Published"), "issued": _l("Issued"),
               "cancelled": _l("Cancelled")},
    "utility": dict(UTILITIES),
}


class NumberField(StringField):
    """A whole number typed in Persian or Latin digits, with or without separators."""

    def process_formdata(self, valuelist):
        self.data = None
        raw = to_ascii_digits((valuelist or [""])[0] or "").replace(",", "").replace("٬", "").strip()
        if raw:
            if not raw.lstrip("-").isdigit():
                raise ValueError(_l("Enter a whole number."))
            self.data = int(raw)

    def _value(self):
        return self.raw_data[0] if self.raw_data else ("" if self.data is None else str(self.data))


class TariffTypeForm(FlaskForm):
    utility = SelectField(_l("Utility"), choices=UTILITIES)
    code = StringField(_l("Code"), validators=[DataRequired(REQUIRED)], render_kw={"dir": "ltr"})
    slug = StringField(_l("Name in the registry (Latin)"), validators=[DataRequired(REQUIRED)],
                       render_kw={"dir": "ltr"})
    name = PersianStringField(_l("Persian name"), validators=[DataRequired(REQUIRED)])


class RenameTypeForm(FlaskForm):
    name = PersianStringField(_l("Persian name"), validators=[DataRequired(REQUIRED)])
    active = BooleanField(_l("In use"))


class NewDraftForm(FlaskForm):
    tariff_type = SelectField(_l("Tariff type"), coerce=int)
    code = StringField(_l("Tariff code"), validators=[DataRequired(REQUIRED)], render_kw={"dir": "ltr"},
                       description=_l("e.g. E1-normal; a new code starts a new tariff of the type"))
    effective_from = JalaliDateField(_l("Effective from"), validators=[InputRequired(REQUIRED)])
    name = PersianStringField(_l("Title"), validators=[Optional()])


class DraftForm(FlaskForm):
    effective_from = JalaliDateField(_l("Effective from"), validators=[InputRequired(REQUIRED)])
    name = PersianStringField(_l("Title"), validators=[Optional()])
    tariff_json = TextAreaField(_l("Tariff (JSON)"), validators=[DataRequired(REQUIRED)],
                         render_kw={"dir": "ltr", "rows": 24, "spellcheck": "false", "class": "font-monospace"})


class ReadingForm(FlaskForm):
    register = SelectField(_l("Register"))
    read_on = JalaliDateField(_l("Read on"), validators=[InputRequired(REQUIRED)])
    value = NumberField(_l("Value"), validators=[InputRequired(REQUIRED)], render_kw={"dir": "ltr"})
    source = SelectField(_l("Source"), choices=SOURCES[:2])
    reader_name = PersianStringField(_l("Reader"), validators=[Optional()])


class OverrideForm(FlaskForm):
    reason = PersianStringField(_l("Why the reading is right"), validators=[DataRequired(REQUIRED)])


class EstimateForm(FlaskForm):
    read_on = JalaliDateField(_l("Estimate up to"), validators=[InputRequired(REQUIRED)])
    reason = PersianStringField(_l("Reason"), validators=[DataRequired(REQUIRED)])


class IssueForm(FlaskForm):
    pass


class RebillForm(FlaskForm):
    reason = PersianStringField(_l("Reason for cancelling"), validators=[DataRequired(REQUIRED)])


class UploadForm(FlaskForm):
    file = FileField(_l("CSV file"))


def apply_error(form, error: DomainError) -> None:
    name = (error.field or "").split(".")[0].split("[")[0]
    target = getattr(form, name, None) if name else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, message_for(error)]
    else:
        form.form_errors.append(message_for(error))
