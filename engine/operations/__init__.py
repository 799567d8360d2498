"""Built-in service-task operations. Domain operations (registry, billing, ledger) live beside these
and are the only engine modules that import the domain packages."""

from engine.operations import (  # noqa: F401  (registers their operations)
    billing_ops,
    cartable,
    ledger_ops,
    registry_ops,
    request_ops,
)
