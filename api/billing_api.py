"""Billing over JSON (readings, tariffs, quotes, bills): added once billing offers its operations."""

from api import bp  # noqa: F401
