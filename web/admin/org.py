"""Regions, roles and the audit log."""

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, Regexp

from core.account_ops import ensure_role
from core.accounts import Role
from core.audit import AuditEntry, audit
from core.db import db
from core.jalali import tehran_day_start
from core.permissions import ADMIN_AUDIT, ADMIN_REGIONS, ADMIN_USERS, PERMISSIONS
from core.regions import REGION_KIND_NAMES_FA, Region, RegionKind, add_region
from core.utilities import UTILITY_NAMES_FA, Utility
from web.access import region_choices, requires, user_regions
from web.admin import bp
from web.fields import JalaliDateField, PersianStringField

AUDIT_PAGE_SIZE = 100


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RegionForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("This field is required.")), Length(max=32),
                    Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Latin letters, digits, - and _ only."))],
        render_kw={"dir": "ltr"},
    )
    name = PersianStringField(_l("Name"), validators=[DataRequired(_l("This field is required.")), Length(max=200)])
    parent = SelectField(_l("Under"), coerce=int)
    utilities = MultiCheckboxField(_l("Utilities served"), choices=[(u.value, UTILITY_NAMES_FA[u]) for u in Utility])


class RolePermissionsForm(FlaskForm):
    permissions = MultiCheckboxField(_l("Permissions"))


@bp.route("/regions", methods=["GET", "POST"])
@requires(ADMIN_REGIONS)
def regions():
    mine = user_regions(ADMIN_REGIONS)
    form = RegionForm()
    form.parent.choices = region_choices([r for r in mine if r.kind != RegionKind.OFFICE])
    if form.validate_on_submit():
        parent = db.session.get(Region, form.parent.data)
        if db.session.scalar(select(Region.id).where(Region.code == form.code.data)):
            form.code.errors = [_("This code is already used by another region.")]
        else:
            kind = RegionKind.REGION if parent.kind == RegionKind.COMPANY else RegionKind.OFFICE
            region = add_region(db.session, form.code.data, form.name.data, kind, parent, form.utilities.data)
            audit(db.session, current_user, "region.created", region, code=region.code, parent=parent.code)
            db.session.commit()
            flash(_("The region was added."), "success")
            return redirect(url_for("admin.regions"))
    status = 422 if form.errors else 200
    return render_template("admin/regions.html", regions=mine, form=form, kind_names=REGION_KIND_NAMES_FA,
                           utility_names=UTILITY_NAMES_FA), status


@bp.get("/roles")
@requires(ADMIN_USERS)
def roles():
    rows = db.session.scalars(select(Role).order_by(Role.name)).all()
    return render_template("admin/roles.html", roles=rows, permissions=PERMISSIONS)


@bp.route("/roles/<int:role_id>", methods=["GET", "POST"])
@requires(ADMIN_USERS)
def role_edit(role_id: int):
    role = db.session.get(Role, role_id) or abort(404)
    if not _admin_of_whole_company():
        abort(403)
    form = RolePermissionsForm(permissions=sorted(role.permissions))
    form.permissions.choices = [(code, str(p.label)) for code, p in sorted(PERMISSIONS.items())]
    if form.validate_on_submit():
        ensure_role(db.session, current_user, role.code, role.name, role.name_en, form.permissions.data)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("admin.roles"))
    return render_template("admin/role_form.html", role=role, form=form)


def _admin_of_whole_company() -> bool:
    """Roles are company-wide, so only an admin of a top-level region may change one."""
    return any(r.parent_id is None for r in user_regions(ADMIN_USERS))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    action = StringField(_l("Action"), render_kw={"dir": "ltr"})
    actor = StringField(_l("User"), render_kw={"dir": "ltr"})
    since = JalaliDateField(_l("From"))
    until = JalaliDateField(_l("To"))


@bp.get("/audit")
@requires(ADMIN_AUDIT)
def audit_log():
    form = AuditFilterForm(request.args)
    form.validate()
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = select(AuditEntry)
    if form.action.data:
        stmt = stmt.where(AuditEntry.action.startswith(form.action.data.strip(), autoescape=True))
    if form.actor.data:
        stmt = stmt.where(func.lower(AuditEntry.actor_name) == form.actor.data.strip().lower())
    if form.since.data:
        stmt = stmt.where(AuditEntry.at >= tehran_day_start(form.since.data))
    if form.until.data:
        stmt = stmt.where(AuditEntry.at < tehran_day_start(form.until.data + timedelta(days=1)))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE_SIZE).offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    return render_template("admin/audit.html", entries=rows, form=form, page=page, total=total,
                           page_size=AUDIT_PAGE_SIZE)
