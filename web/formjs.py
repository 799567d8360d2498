"""User-task forms rendered on the server: a form-js schema as accessible right-to-left HTML that works
without JavaScript (templates in web/templates/forms/), or as a definition list for earlier steps' data.

`render_form` renders the components only; the page provides the <form> (with
enctype="multipart/form-data" when the form has a madam:document), the CSRF token and the buttons.
Field names are the component keys, except a map point (`<key>.lat`, `<key>.lng`) and the time of a
datetime of subtype datetime (`<key>.time`). On a failed POST pass `request.form` (the MultiDict itself
keeps every box of a checklist) as `values` and the errors of `engine.formschema.validate_submission`.
"""

import re
from datetime import date

from flask import render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from core.jalali import parse_jalali_date
from core.money import format_rials
from core.text import to_ascii_digits
from engine import formschema as fs
from web.filters import digits, jalali_date, rials
from web.lookups import tariff_type_options

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISO_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})")
_TRUE = {"true", "on", "1", "yes"}
_NEEDS_ASSETS = {"datetime", fs.RIAL, *fs.LOOKUP_TYPES, fs.TARIFF_TYPE}


def render_form(schema: dict, values: dict | None = None, errors: dict | None = None, *, readonly: bool = False,
                lookup_urls: dict | None = None) -> Markup:
    """The components of a form as HTML (no <form>, no CSRF, no buttons): labelled inputs re-filled from
    `values`, each error beside its field; with readonly=True the same data as a definition list."""
    values = values if values is not None else {}
    if readonly:
        return _rendered("forms/readonly.html", blocks=_blocks(fs.components(schema), values))
    context = {"values": values, "errors": errors or {}, "urls": lookup_urls or {},
               "submitted": _filled(schema, values)}
    nodes = [_node(c, context) for c in fs.components(schema)]
    assets = form_assets() if _needs_assets(schema) else Markup()
    return _rendered("forms/form.html", nodes=[n for n in nodes if n]) + assets


def form_assets() -> Markup:
    """The styles and scripts of the forms (date picker, lookups), once per page; a page may call it in
    its head, else render_form adds them beside the first form that needs them."""
    if request.environ.get("madam.form_assets"):  # per request, even where tests share an app context
        return Markup()
    request.environ["madam.form_assets"] = True
    return _rendered("forms/assets.html")


def _rendered(template: str, **context) -> Markup:
    """A template's output, already escaped by Jinja's autoescaping, as markup for the page."""
    return Markup(render_template(template, **context))  # noqa: S704  (autoescaped template output)


def init(app) -> None:
    app.jinja_env.globals.update(render_form=render_form, form_assets=form_assets)


def _filled(schema: dict, values) -> bool:
    """Whether `values` already holds this form's input (a submission or a draft): then an absent key means
    an unticked box, not a field to fill with its defaultValue."""
    names = {c["key"] for c in fs.fields(schema)}
    return any(str(name).split(".")[0] in names for name in values)


def _needs_assets(schema) -> bool:
    return any(c.get("type") in _NEEDS_ASSETS for c in fs.walk(fs.components(schema)))


# --- Editable --------------------------------------------------------------------------------------------------


def _node(c: dict, context: dict) -> dict | None:
    kind = c.get("type")
    if kind == "group":
        children = [_node(child, context) for child in c.get("components") or [] if isinstance(child, dict)]
        return {"kind": "group", "label": c.get("label") or "", "children": [n for n in children if n]}
    if kind == "text":
        return {"kind": "text", "paragraphs": _paragraphs(c.get("text"), context["values"])}
    if kind in ("separator", "spacer"):
        return {"kind": kind}
    if kind not in fs.INPUT_TYPES or not c.get("key"):
        return None
    c = with_tariff_types(c)
    key = c["key"]
    node = {
        "kind": _template_kind(c), "type": kind, "key": key, "id": f"f-{key}", "label": fs.label_of(c),
        "description": c.get("description") or "", "required": fs.is_required(c),
        "errors": list(context["errors"].get(key) or []),
        "disabled": bool(c.get("disabled") or c.get("readonly")),
    }
    node["describedby"] = " ".join(
        part for part, present in ((f"f-{key}-desc", node["description"]), (f"f-{key}-error", node["errors"]))
        if present)
    _fill(node, c, context)
    return node


def with_tariff_types(c: dict) -> dict:
    """A tariff type select without options of its own offers the registry's tariff types (of the utility
    its properties name, else every utility's): a select without JavaScript, values the registry's words."""
    if c.get("type") != fs.TARIFF_TYPE or c.get("values"):
        return c
    options = tariff_type_options((c.get("properties") or {}).get("utility"))
    return {**c, "values": [{"value": value, "label": label} for value, label in options]} if options else c


def _template_kind(c: dict) -> str:
    kind = c["type"]
    if kind == fs.TARIFF_TYPE:
        return "select" if c.get("values") else "lookup"
    if kind in fs.LOOKUP_TYPES:
        return "lookup"
    return {fs.DOCUMENT: "document", fs.MAP_POINT: "mappoint", fs.RIAL: "rial"}.get(kind, kind)


def _given(values, name: str) -> list:
    """What `values` holds for a name: a submitted MultiDict, a dict of texts or lists, or typed data."""
    if hasattr(values, "getlist"):
        return values.getlist(name)
    value = values.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _first(c: dict, context: dict, name: str | None = None):
    found = _given(context["values"], name or c["key"])
    if found:
        return found[0]
    if name is None and not context["submitted"] and c.get("defaultValue") not in (None, ""):
        return c["defaultValue"]
    return None


def _fill(node: dict, c: dict, context: dict) -> None:
    kind, key, validate = c["type"], c["key"], c.get("validate") if isinstance(c.get("validate"), dict) else {}
    value = _first(c, context)
    attrs = {}
    if kind in ("textfield", "textarea"):
        node["value"] = "" if value is None else str(value)
        if isinstance(validate.get("maxLength"), int):
            attrs["maxlength"] = validate["maxLength"]
        validator = fs.validator_of(c)
        numeric = validator in fs.TEXT_VALIDATORS or validate.get("validationType") in ("email", "phone")
        attrs["dir"] = "ltr" if numeric else "auto"
        if validator in fs.TEXT_VALIDATORS:
            attrs["inputmode"] = "tel" if validator == "mobile" else "numeric"
        elif validate.get("validationType") == "email":
            attrs["inputmode"] = "email"
        elif validate.get("validationType") == "phone":
            attrs["inputmode"] = "tel"
    elif kind == "number":
        node["value"] = "" if value is None else str(value)
        attrs.update(inputmode="decimal" if c.get("decimalDigits") else "numeric", dir="ltr")
    elif kind == fs.RIAL:
        node["value"] = format_rials(value, unit=None) if isinstance(value, int) else ("" if value is None else value)
    elif kind == "checkbox":
        node["checked"] = value is True or (isinstance(value, str) and value.lower() in _TRUE)
    elif kind in fs.CHOICE_TYPES or (kind == fs.TARIFF_TYPE and c.get("values")):
        chosen = _given(context["values"], key) if kind == "checklist" else [value]
        if kind == "checklist" and not chosen and not context["submitted"]:
            chosen = c.get("defaultValue") if isinstance(c.get("defaultValue"), list) else []
        chosen = {str(v) for v in chosen if v is not None}
        node["options"] = [{"value": v, "label": label, "selected": v in chosen, "id": f"f-{key}-{i}"}
                           for i, (v, label) in enumerate(fs.options_of(c))]
    elif kind == "datetime":
        _fill_datetime(node, c, context, value)
    elif kind in fs.LOOKUP_TYPES or kind == fs.TARIFF_TYPE:
        node["value"] = "" if value is None else str(value)
        node["url"] = context["urls"].get(kind) or ""
        attrs["dir"] = "auto"
    elif kind == fs.DOCUMENT:
        node["value"] = str(value) if isinstance(value, (int, str)) and str(value).strip() else ""
        node["accept"] = c.get("accept") or (c.get("properties") or {}).get("accept") or ""
    elif kind == fs.MAP_POINT:
        point = value if isinstance(value, dict) else {}
        for axis in ("lat", "lng"):
            typed = _given(context["values"], f"{key}.{axis}")
            node[axis] = str(typed[0]) if typed else ("" if point.get(axis) is None else str(point[axis]))
    node["attrs"] = attrs


def _fill_datetime(node: dict, c: dict, context: dict, value) -> None:
    subtype = c.get("subtype") or "date"
    node["subtype"] = subtype
    text = "" if value is None else str(value)
    node["date_label"] = c.get("dateLabel") or c.get("label") or c["key"]
    node["time_label"] = c.get("timeLabel") or _("Time")
    if subtype == "datetime":
        match = _ISO_DATETIME.fullmatch(text)
        time = _given(context["values"], f"{c['key']}.time")
        node["time"] = str(time[0]) if time else (match[2] if match else "")
        text = match[1] if match else text
    node["value"] = _jalali_text(text) if subtype != "time" else text


def _jalali_text(text: str) -> str:
    """A stored ISO date shown as the Jalali date an expert types; anything else as it was typed."""
    match = _ISO_DATE.fullmatch(text)
    if match and int(match[1]) > 1700:
        return jalali_date(date(int(match[1]), int(match[2]), int(match[3])))
    return text


def _paragraphs(text, values) -> list[str]:
    """A text component's paragraphs; `{{ key }}` shows a value of the form's data."""
    if not isinstance(text, str):
        return []

    def value_of(match):
        found = _given(values, match[1]) if values else []
        return str(found[0]) if found else ""

    text = re.sub(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}", value_of, text)
    return [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]


# --- Read-only ---------------------------------------------------------------------------------------------------


def _blocks(items: list, values) -> list[dict]:
    """Runs of labelled values (one <dl> each) and groups, in the form's order; empty groups left out."""
    blocks: list[dict] = []
    for c in items:
        if not isinstance(c, dict):
            continue
        if c.get("type") == "group":
            inner = _blocks(c.get("components") or [], values)
            if inner:
                blocks.append({"kind": "group", "label": c.get("label") or "", "blocks": inner})
        elif c.get("type") in fs.INPUT_TYPES and c.get("key"):
            if not blocks or blocks[-1]["kind"] != "items":
                blocks.append({"kind": "items", "items": []})
            display = _display(c, values)
            blocks[-1]["items"].append({"key": c["key"], "label": fs.label_of(c),
                                        "lines": display.split("\n") if display else []})
    return blocks


def _display(c: dict, values) -> str:
    c = with_tariff_types(c)
    kind, key = c["type"], c["key"]
    found = _given(values, key)
    if kind == fs.MAP_POINT:
        point = found[0] if found and isinstance(found[0], dict) else {
            axis: (_given(values, f"{key}.{axis}") or [None])[0] for axis in ("lat", "lng")}
        if point.get("lat") in (None, "") or point.get("lng") in (None, ""):
            return ""
        return f"{digits(point['lat'])}، {digits(point['lng'])}"
    if kind == "checklist":
        labels = dict(fs.options_of(c))
        return "، ".join(labels.get(str(v), str(v)) for v in found)
    value = found[0] if found else None
    if value is None or value == "":
        return _("No") if kind == "checkbox" else ""
    if kind == "checkbox":
        return _("Yes") if value is True or str(value).lower() in _TRUE else _("No")
    if kind in ("radio", "select") or (kind == fs.TARIFF_TYPE and c.get("values")):
        return dict(fs.options_of(c)).get(str(value), str(value))
    if kind == "datetime":
        return _display_datetime(str(value))
    if kind == fs.RIAL:
        return rials(value) if isinstance(value, int) else digits(value)
    if kind in ("number", fs.SUBSCRIBER, fs.CONTRACT, fs.METER, fs.DOCUMENT):
        return digits(value)
    return str(value)


def _display_datetime(text: str) -> str:
    match = _ISO_DATETIME.fullmatch(text)
    if match:
        return f"{_jalali_text(match[1])} {digits(match[2])}"
    if _ISO_DATE.fullmatch(text):
        return _jalali_text(text)
    try:  # a Jalali date as typed: shown the same way
        return jalali_date(parse_jalali_date(text))
    except ValueError:
        return digits(to_ascii_digits(text))
