"""Small helpers the endpoints share: load a query or a body, one page of a statement."""

from datetime import datetime

from flask import jsonify, request
from sqlalchemy import func, select

from core.db import db
from core.jalali import TEHRAN


def load_query(schema) -> dict:
    return schema().load(request.args.to_dict())


def load_body(schema) -> dict:
    data = request.get_json(silent=True)
    return schema().load(data if isinstance(data, dict) else {})


def page_of(stmt, page: int, per_page: int):
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def paged(schema, rows, total: int, page: int, per_page: int):
    return jsonify(total=total, page=page, per_page=per_page, items=schema(many=True).dump(rows))


def today():
    return datetime.now(TEHRAN).date()
