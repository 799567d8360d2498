"""Alembic environment: the app's database and the full model metadata."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")


def _engine():
    return current_app.extensions["migrate"].db.engine


def _metadata():
    return current_app.extensions["migrate"].db.metadata


def _options():
    options = dict(current_app.extensions["migrate"].configure_args)
    options.setdefault("compare_type", True)
    return options


def run_migrations_offline():
    context.configure(url=str(_engine().url), target_metadata=_metadata(), literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    with _engine().connect() as connection:
        context.configure(connection=connection, target_metadata=_metadata(), **_options())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
