"""Settings from the environment. Every setting a deployment changes is a MADAM_* variable.

MADAM_ENV               production | development (default development)
MADAM_DATA_DIR          where the SQLite file, uploads and the dev secret live (default ./instance)
MADAM_DATABASE_URL      default: SQLite file in MADAM_DATA_DIR; postgresql://… for production
MADAM_REDIS_URL         default: none, jobs run in-process; redis://… for RQ workers
MADAM_SECRET_KEY        required in production
MADAM_SESSION_IDLE_MINUTES   sign out after this much inactivity (default 30)
MADAM_SESSION_MAX_HOURS      sign out this long after signing in, whatever happens (default 10)
MADAM_LOGIN_MAX_FAILURES     wrong passwords before the account is locked (default 5)
MADAM_LOGIN_LOCKOUT_MINUTES  how long it stays locked (default 15)
MADAM_UPLOAD_MAX_MB          largest accepted upload (default 10)
MADAM_OPERATION_MODULES      extra Python modules of service-task operations, comma-separated
MADAM_LEDGER_APPROVAL_LIMIT  rials above which an adjustment, refund or write-off needs ledger.approve
MADAM_UPLOAD_DIR             where uploaded documents are kept (default MADAM_DATA_DIR/uploads; never under web/)
MADAM_MAP_TILE_URL           the map tiles' URL template (default OpenStreetMap's); its origin is allowed by the CSP
MADAM_COMPANY_CODE           the company's 3-digit code in bill IDs (default 101)
MADAM_REPORTS_EXPORT_ROW_LIMIT  rows a report exports within the request; more run as a background job (5000)
MADAM_WEBHOOK_PRIVATE_TARGETS   allow | deny webhooks to loopback and private addresses
                                (allow in development, deny in production)
MADAM_DISCONNECTION_RULE_HOUR   the hour (Tehran, 0-23) from which the daily disconnection rule runs (6); "off" stops it
MADAM_DISCONNECTION_THRESHOLD   rials of overdue debt (no grace) above which the rule starts a disconnection (5000000)
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(RuntimeError):
    pass


def _int(env, name, default):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def _allow(env, name, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "allow", "deny"):
        return default if raw == "" else raw == "allow"
    raise SettingsError(f"{name} must be allow or deny, got {raw!r}")


def _hour(env, name, default):
    """An hour of the day (0-23), or None for "off"."""
    if (env.get(name) or "").strip().lower() == "off":
        return None
    hour = _int(env, name, default)
    if not 0 <= hour <= 23:
        raise SettingsError(f"{name} must be an hour from 0 to 23 or off, got {hour}")
    return hour


def database_url(raw: str) -> str:
    """SQLAlchemy URL with the psycopg 3 driver for a plain postgresql:// URL."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def _secret_key(env, production: bool, data_dir: Path) -> str:
    key = env.get("MADAM_SECRET_KEY")
    if key:
        return key
    if production:
        raise SettingsError("MADAM_SECRET_KEY is not set; production refuses to start without it")
    # Development: a random key kept in the data folder, so sessions survive a restart.
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


TRANSLATIONS = REPO_ROOT / "madam" / "translations"


def translation_domains() -> dict:
    """One gettext domain per catalogue file (messages.po, subscribers.po, …), so each package keeps
    its own Persian catalogue; Flask-Babel wants the directory repeated once per domain."""
    domains = sorted({p.stem for p in TRANSLATIONS.glob("*/LC_MESSAGES/*.po")} | {"messages"},
                     key=lambda name: (name != "messages", name))
    return {"BABEL_DOMAIN": ";".join(domains),
            "BABEL_TRANSLATION_DIRECTORIES": ";".join([str(TRANSLATIONS)] * len(domains))}


def _engine_options(db_url: str) -> dict:
    """No ping before each checkout: it cost a round trip and more Python time than a whole payment's
    posting. A connection is replaced after half an hour (before servers and firewalls drop idle ones);
    one the server dropped fails its first statement, which makes the pool discard every connection
    opened before it, and the next checkout connects afresh."""
    return {"pool_recycle": 1800} if db_url.startswith("postgresql") else {}


def load_settings(env=None) -> dict:
    env = os.environ if env is None else env
    mode = env.get("MADAM_ENV", "development")
    if mode not in ("production", "development"):
        raise SettingsError(f"MADAM_ENV must be production or development, got {mode!r}")
    production = mode == "production"
    data_dir = Path(env.get("MADAM_DATA_DIR") or REPO_ROOT / "instance").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    db_url = database_url(env.get("MADAM_DATABASE_URL") or f"sqlite:///{data_dir / 'madam.sqlite3'}")
    return {
        "MADAM_ENV": mode,
        "MADAM_DATA_DIR": str(data_dir),
        "MADAM_REDIS_URL": env.get("MADAM_REDIS_URL") or None,
        "SECRET_KEY": _secret_key(env, production, data_dir),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(db_url),
        "MADAM_SESSION_IDLE": timedelta(minutes=_int(env, "MADAM_SESSION_IDLE_MINUTES", 30)),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int(env, "MADAM_SESSION_MAX_HOURS", 10)),
        "MADAM_LOGIN_MAX_FAILURES": _int(env, "MADAM_LOGIN_MAX_FAILURES", 5),
        "MADAM_LOGIN_LOCKOUT": timedelta(minutes=_int(env, "MADAM_LOGIN_LOCKOUT_MINUTES", 15)),
        "MAX_CONTENT_LENGTH": _int(env, "MADAM_UPLOAD_MAX_MB", 10) * 1024 * 1024,
        "MADAM_LEDGER_APPROVAL_LIMIT": _int(env, "MADAM_LEDGER_APPROVAL_LIMIT", 50_000_000),
        "MADAM_REPORTS_EXPORT_ROW_LIMIT": _int(env, "MADAM_REPORTS_EXPORT_ROW_LIMIT", 5000),
        "MADAM_DISCONNECTION_RULE_HOUR": _hour(env, "MADAM_DISCONNECTION_RULE_HOUR", 6),
        "MADAM_DISCONNECTION_THRESHOLD": _int(env, "MADAM_DISCONNECTION_THRESHOLD", 5_000_000),
        "MADAM_UPLOAD_DIR": str(Path(env.get("MADAM_UPLOAD_DIR") or data_dir / "uploads").resolve()),
        "MADAM_MAP_TILE_URL": env.get("MADAM_MAP_TILE_URL") or "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "MADAM_COMPANY_CODE": env.get("MADAM_COMPANY_CODE") or "101",
        "MADAM_WEBHOOK_PRIVATE_TARGETS": _allow(env, "MADAM_WEBHOOK_PRIVATE_TARGETS", mode != "production"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": timedelta(0),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "BABEL_DEFAULT_LOCALE": "fa",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Tehran",
        **translation_domains(),
        "LANGUAGES": ("fa", "en"),
        "MADAM_OPERATION_MODULES": [m.strip() for m in env.get("MADAM_OPERATION_MODULES", "").split(",")
                                    if m.strip()],
    }
