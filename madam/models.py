"""Imports every model so the metadata (and Alembic's view of it) is complete."""

from api import models as api_models  # noqa: F401
from billing import models as billing_models  # noqa: F401
from billing import run_models as billing_run_models  # noqa: F401
from core import accounts, audit, regions, schedule  # noqa: F401
from core.db import db
from engine import models as engine_models  # noqa: F401
from ledger import models as ledger_models  # noqa: F401
from reports import models as report_models  # noqa: F401
from subscribers import models as subscriber_models  # noqa: F401

metadata = db.metadata
