"""The REST JSON API under /api/v1 (marshmallow schemas, OpenAPI document)."""
