"""The app factory and settings from the environment."""

from pathlib import Path

import pytest

from madam.app import create_app
from madam.settings import SettingsError, load_settings


def test_default_is_a_sqlite_file_in_the_data_dir_and_in_process_jobs(tmp_path):
    settings = load_settings({"MADAM_DATA_DIR": str(tmp_path)})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'madam.sqlite3'}"
    assert settings["MADAM_REDIS_URL"] is None
    app = create_app(env={"MADAM_DATA_DIR": str(tmp_path)})
    assert app.extensions["madam_jobs"].name == "in-process"
    assert app.config["MADAM_ENV"] == "development"


def test_postgresql_and_redis_urls_select_psycopg_and_rq(tmp_path):
    app = create_app(env={"MADAM_DATA_DIR": str(tmp_path),
                          "MADAM_DATABASE_URL": "postgresql://madam:pw@db.example:5432/madam",
                          "MADAM_REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://madam:pw@db.example:5432/madam"
    assert app.extensions["madam_jobs"].name == "rq"


def test_production_without_a_secret_refuses_to_start(tmp_path):
    with pytest.raises(SettingsError, match="MADAM_SECRET_KEY"):
        create_app(env={"MADAM_ENV": "production", "MADAM_DATA_DIR": str(tmp_path)})
    assert not (Path(tmp_path) / "secret_key").exists()


def test_production_with_a_secret_uses_it_and_secure_cookies(tmp_path):
    app = create_app(env={"MADAM_ENV": "production", "MADAM_DATA_DIR": str(tmp_path), "MADAM_SECRET_KEY": "s3cr3t"})
    assert app.config["SECRET_KEY"] == "s3cr3t"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_secret_is_generated_once_and_kept(tmp_path):
    first = load_settings({"MADAM_DATA_DIR": str(tmp_path)})["SECRET_KEY"]
    second = load_settings({"MADAM_DATA_DIR": str(tmp_path)})["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("name", "value"), [("MADAM_ENV", "staging"), ("MADAM_LOGIN_MAX_FAILURES", "five")])
def test_bad_values_are_named_in_the_error(tmp_path, name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({"MADAM_DATA_DIR": str(tmp_path), name: value})


def test_session_and_lockout_limits_come_from_the_environment(tmp_path):
    settings = load_settings({"MADAM_DATA_DIR": str(tmp_path), "MADAM_SESSION_IDLE_MINUTES": "5",
                              "MADAM_LOGIN_MAX_FAILURES": "3", "MADAM_LOGIN_LOCKOUT_MINUTES": "60"})
    assert settings["MADAM_SESSION_IDLE"].total_seconds() == 300
    assert settings["MADAM_LOGIN_MAX_FAILURES"] == 3
    assert settings["MADAM_LOGIN_LOCKOUT"].total_seconds() == 3600
