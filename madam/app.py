"""The composition root: builds the Flask app from settings and the packages' pieces."""

import importlib

from flask import Flask
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

import api
import web
from core.db import db
from core.jobs import JobBackend
from madam import models, wiring  # noqa: F401  (models registers every table)
from madam.settings import REPO_ROOT, load_settings

MIGRATIONS_DIR = str(REPO_ROOT / "migrations")

migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()


def create_app(overrides: dict | None = None, env=None) -> Flask:
    app = Flask(
        "madam",
        static_folder=str(REPO_ROOT / "web" / "static"),
        template_folder=str(REPO_ROOT / "web" / "templates"),
        instance_path=str(REPO_ROOT / "instance"),
    )
    app.config.update(load_settings(env))
    if overrides:
        app.config.update(overrides)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR,
                     render_as_batch=app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"))
    babel.init_app(app, locale_selector=web.select_locale, timezone_selector=lambda: "Asia/Tehran")
    csrf.init_app(app)
    login_manager.init_app(app)
    app.extensions["madam_jobs"] = JobBackend(app.config["MADAM_REDIS_URL"])

    for module in ("engine.operations", "engine.texts", *app.config["MADAM_OPERATION_MODULES"]):
        importlib.import_module(module)  # each registers its service-task operations
    wiring.connect()
    web.register(app, login_manager)
    api.register(app)
    return app
