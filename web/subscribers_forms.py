"""Create and edit subscribers and their premises. Bad input: 422, Persian errors beside the
fields, nothing saved."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from core.db import db
from core.errors import DomainError
from core.permissions import SUBSCRIBERS_EDIT
from core.regions import Region
from subscribers import operations
from subscribers.enums import BuildingUse, ClimateZone, SubscriberKind
from subscribers.models import Premise
from web.access import region_choices, require_region, requires, user_regions
from web.fields import JalaliDateField, PersianStringField
from web.subscribers import apply_error, bp, subscriber_for

LTR = {"dir": "ltr"}
KINDS = [(SubscriberKind.PERSON, _l("Natural person")), (SubscriberKind.LEGAL, _l("Legal entity"))]
CLIMATE_ZONES = [(ClimateZone.NORMAL, _l("Normal")), (ClimateZone.WARM1, _l("Warm 1")),
                 (ClimateZone.WARM2, _l("Warm 2")), (ClimateZone.WARM3, _l("Warm 3")),
                 (ClimateZone.WARM4, _l("Warm 4"))]
BUILDING_USES = [(BuildingUse.RESIDENTIAL, _l("Residential")), (BuildingUse.COMMERCIAL, _l("Commercial")),
                 (BuildingUse.INDUSTRIAL, _l("Industrial")), (BuildingUse.AGRICULTURAL, _l("Agricultural")),
                 (BuildingUse.PUBLIC, _l("Public")), (BuildingUse.OTHER, _l("Other"))]


class SubscriberForm(FlaskForm):
    kind = SelectField(_l("Subscriber type"), choices=KINDS)
    first_name = PersianStringField(_l("First name"))
    last_name = PersianStringField(_l("Last name"))
    father_name = PersianStringField(_l("Father's name"))
    birth_date = JalaliDateField(_l("Birth date"))
    legal_name = PersianStringField(_l("Company name"))
    economic_code = StringField(_l("Economic code"), render_kw=LTR)
    registration_no = StringField(_l("Registration number"), render_kw=LTR)
    national_id = StringField(_l("National ID (10 digits) or legal entity ID (11 digits)"), render_kw=LTR)
    mobile = StringField(_l("Mobile"), render_kw=LTR)
    phone = StringField(_l("Phone"), render_kw=LTR)
    email = StringField(_l("Email"), render_kw=LTR)
    region = SelectField(_l("Region"), coerce=int)


class PremiseForm(FlaskForm):
    province = PersianStringField(_l("Province"))
    city = PersianStringField(_l("City"))
    district = PersianStringField(_l("District"))
    street = PersianStringField(_l("Street"))
    alley = PersianStringField(_l("Alley"))
    plaque = PersianStringField(_l("Plaque"))
    unit = PersianStringField(_l("Unit"))
    postal_code = StringField(_l("Postal code"), render_kw=LTR)
    latitude = StringField(_l("Latitude"), render_kw=LTR)
    longitude = StringField(_l("Longitude"), render_kw=LTR)
    region = SelectField(_l("Region"), coerce=int)
    climate_zone = SelectField(_l("Climate zone"), choices=CLIMATE_ZONES)
    building_use = SelectField(_l("Building use"), choices=BUILDING_USES)


def _with_regions(form):
    form.region.choices = region_choices(user_regions(SUBSCRIBERS_EDIT))
    return form


def _data(form) -> dict:
    data = {name: field.data for name, field in form._fields.items() if name not in ("csrf_token", "region")}
    data["region_id"] = form.region.data
    return data


def _render(template, form, status_ok=200, **context):
    status = 422 if form.errors or form.form_errors else status_ok
    return render_template(template, form=form, **context), status


@bp.route("/new", methods=["GET", "POST"])
@requires(SUBSCRIBERS_EDIT)
def subscriber_new():
    form = _with_regions(SubscriberForm())
    if form.validate_on_submit():
        try:
            subscriber = operations.create_subscriber(db.session, current_user, _data(form))
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error)
        else:
            db.session.commit()
            flash(_("The subscriber was registered."), "success")
            return redirect(url_for("subscribers.profile", subscriber_id=subscriber.id))
    return _render("subscribers/subscriber_form.html", form, subscriber=None)


@bp.route("/<int:subscriber_id>/edit", methods=["GET", "POST"])
@requires(SUBSCRIBERS_EDIT)
def subscriber_edit(subscriber_id: int):
    subscriber = subscriber_for(subscriber_id, SUBSCRIBERS_EDIT)
    form = _with_regions(SubscriberForm(obj=subscriber, region=subscriber.region_id))
    if form.validate_on_submit():
        try:
            operations.update_subscriber(db.session, current_user, subscriber, _data(form))
        except DomainError as error:
            db.session.rollback()
            subscriber = subscriber_for(subscriber_id, SUBSCRIBERS_EDIT)
            apply_error(form, error)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("subscribers.profile", subscriber_id=subscriber_id))
    return _render("subscribers/subscriber_form.html", form, subscriber=subscriber)


@bp.route("/<int:subscriber_id>/premises/new", methods=["GET", "POST"])
@requires(SUBSCRIBERS_EDIT)
def premise_new(subscriber_id: int):
    subscriber = subscriber_for(subscriber_id, SUBSCRIBERS_EDIT)
    form = _with_regions(PremiseForm(region=subscriber.region_id))
    if form.validate_on_submit():
        try:
            operations.create_premise(db.session, current_user, subscriber, _data(form))
        except DomainError as error:
            db.session.rollback()
            subscriber = subscriber_for(subscriber_id, SUBSCRIBERS_EDIT)
            apply_error(form, error)
        else:
            db.session.commit()
            flash(_("The premise was added."), "success")
            return redirect(url_for("subscribers.profile", subscriber_id=subscriber_id, _anchor="premises"))
    return _render("subscribers/premise_form.html", form, subscriber=subscriber, premise=None)


@bp.route("/<int:subscriber_id>/premises/<int:premise_id>", methods=["GET", "POST"])
@requires(SUBSCRIBERS_EDIT)
def premise_edit(subscriber_id: int, premise_id: int):
    subscriber = subscriber_for(subscriber_id, SUBSCRIBERS_EDIT)
    premise = db.session.get(Premise, premise_id)
    if premise is None:
        abort(404)
    require_region(SUBSCRIBERS_EDIT, db.session.get(Region, premise.region_id))
    form = _with_regions(PremiseForm(obj=premise, region=premise.region_id))
    if form.validate_on_submit():
        try:
            operations.update_premise(db.session, current_user, premise, _data(form))
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("subscribers.profile", subscriber_id=subscriber_id, _anchor="premises"))
    return _render("subscribers/premise_form.html", form, subscriber=subscriber, premise=premise)
