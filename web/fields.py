"""Form fields that speak the platform's conventions: Jalali dates, normalised Persian text."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField

from core.jalali import InvalidJalaliDate, format_jalali_date, parse_jalali_date
from core.text import normalize_persian


class PersianStringField(StringField):
    """Text stored in its normalised form (Persian yeh/kaf, ASCII digits, tidy spaces)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = normalize_persian(self.data)


class JalaliDateField(StringField):
    """A date typed as Jalali (`1403/12/30` in Persian or ASCII digits); `.data` is a Gregorian date."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).update(
            {"placeholder": "۱۴۰۳/۱۲/۳۰", "inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}
        )
        super().__init__(label, validators, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_jalali_date(self.data) if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        try:
            self.data = parse_jalali_date(valuelist[0])
        except InvalidJalaliDate as exc:
            raise ValueError(_l("Enter a Jalali date like 1403/12/30.")) from exc
