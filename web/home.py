"""The dashboard a user lands on after signing in."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from core.accounts import Assignment
from core.db import db, utcnow
from core.jalali import as_tehran
from web.access import requires

bp = Blueprint("home", __name__)


@bp.get("/")
@requires("authenticated")
def index():
    assignments = db.session.scalars(
        select(Assignment).where(Assignment.user_id == current_user.id)
    ).all()
    return render_template("home.html", assignments=assignments, today=as_tehran(utcnow()).date())
