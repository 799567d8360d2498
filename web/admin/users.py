"""Users: list, create, edit, password, unlock, and role assignments per region."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import exists, func, not_, or_, select
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Optional

from core import account_ops
from core.accounts import Assignment, Role, User
from core.db import db
from core.errors import DomainError
from core.messages import message_for
from core.permissions import ADMIN_USERS, scope_to_regions
from core.regions import Region
from core.text import normalize_persian
from web.access import region_choices, requires, user_regions
from web.admin import bp
from web.fields import PersianStringField

PAGE_SIZE = 50


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("This field is required."))],
                           render_kw={"dir": "ltr"})
    full_name = PersianStringField(_l("Full name"), validators=[DataRequired(_l("This field is required."))])
    national_id = StringField(_l("National ID"), validators=[Optional()], render_kw={"dir": "ltr"})
    mobile = StringField(_l("Mobile"), validators=[Optional()], render_kw={"dir": "ltr"})
    email = StringField(_l("Email"), validators=[Optional()], render_kw={"dir": "ltr"})
    password = PasswordField(_l("Password"), validators=[Optional()], render_kw={"dir": "ltr"})
    active = BooleanField(_l("Active"), default=True)


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("This field is required."))],
                             render_kw={"dir": "ltr", "autocomplete": "new-password"})


class AssignmentForm(FlaskForm):
    role = SelectField(_l("Role"), coerce=int)
    region = SelectField(_l("Region"), coerce=int)


def _visible_users():
    """Users the admin may manage: those with a role in the admin's regions, or with none yet."""
    in_my_regions = scope_to_regions(
        select(Assignment.user_id), Assignment.region_id, db.session, current_user, ADMIN_USERS
    )
    has_any = exists().where(Assignment.user_id == User.id)
    return select(User).where(or_(User.id.in_(in_my_regions), not_(has_any)))


def _get_user(user_id: int) -> User:
    user = db.session.scalar(_visible_users().where(User.id == user_id))
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@requires(ADMIN_USERS)
def users():
    q = normalize_persian(request.args.get("q", "")) or ""
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = _visible_users()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like), User.full_name.like(f"%{q}%"),
                              User.national_id.like(f"%{q}%"), User.mobile.like(f"%{q}%")))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(User.username).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/users.html", users=rows, q=q, page=page, total=total, page_size=PAGE_SIZE)


def _apply_errors(form, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, message_for(error)]
    else:
        form.form_errors.append(message_for(error))


@bp.route("/users/new", methods=["GET", "POST"])
@requires(ADMIN_USERS)
def user_new():
    form = UserForm()
    form.password.validators = [DataRequired(_l("This field is required."))]
    if form.validate_on_submit():
        try:
            user = account_ops.create_user(
                db.session, current_user, username=form.username.data, full_name=form.full_name.data,
                password=form.password.data, national_id=form.national_id.data, mobile=form.mobile.data,
                email=form.email.data,
            )
            if not form.active.data:
                account_ops.update_user(db.session, current_user, user, full_name=user.full_name,
                                        national_id=user.national_id, mobile=user.mobile, email=user.email,
                                        active=False)
        except DomainError as error:
            db.session.rollback()
            _apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("User %(name)s was created. Now give them a role.", name=user.username), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(ADMIN_USERS)
def user_edit(user_id: int):
    user = _get_user(user_id)
    form = UserForm(obj=user)
    form.username.render_kw = {**(form.username.render_kw or {}), "readonly": True}
    if form.validate_on_submit():
        try:
            account_ops.update_user(db.session, current_user, user, full_name=form.full_name.data,
                                    national_id=form.national_id.data, mobile=form.mobile.data,
                                    email=form.email.data, active=form.active.data)
        except DomainError as error:
            db.session.rollback()
            user = _get_user(user_id)
            _apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("admin/user_form.html", form=form, user=user,
                           password_form=PasswordForm(), assignment_form=_assignment_form()), status


def _assignment_form() -> AssignmentForm:
    form = AssignmentForm()
    form.role.choices = [(r.id, r.name) for r in db.session.scalars(select(Role).order_by(Role.name))]
    form.region.choices = region_choices(user_regions(ADMIN_USERS))
    return form


@bp.post("/users/<int:user_id>/password")
@requires(ADMIN_USERS)
def user_password(user_id: int):
    user = _get_user(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            account_ops.set_password(db.session, current_user, user, form.password.data)
        except DomainError as error:
            db.session.rollback()
            flash(message_for(error), "danger")
        else:
            db.session.commit()
            flash(_("The password was changed."), "success")
    else:
        flash(_("Enter the new password."), "danger")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/unlock")
@requires(ADMIN_USERS)
def user_unlock(user_id: int):
    account_ops.unlock_user(db.session, current_user, _get_user(user_id))
    db.session.commit()
    flash(_("The account was unlocked."), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/assignments")
@requires(ADMIN_USERS)
def assignment_add(user_id: int):
    user = _get_user(user_id)
    form = _assignment_form()
    if not form.validate_on_submit():
        flash(_("Choose a role and a region."), "danger")
        return redirect(url_for("admin.user_edit", user_id=user_id))
    role = db.session.get(Role, form.role.data)
    region = db.session.get(Region, form.region.data)
    account_ops.assign_role(db.session, current_user, user, role, region)
    db.session.commit()
    flash(_("The role was given."), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/assignments/<int:assignment_id>/delete")
@requires(ADMIN_USERS)
def assignment_remove(user_id: int, assignment_id: int):
    user = _get_user(user_id)
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.user_id != user.id:
        abort(404)
    if assignment.region_id not in {r.id for r in user_regions(ADMIN_USERS)}:
        abort(403)
    account_ops.remove_assignment(db.session, current_user, assignment)
    db.session.commit()
    flash(_("The role was taken away."), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))
