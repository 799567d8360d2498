"""Errors the domain raises, with a code the user's language turns into a message."""


class DomainError(Exception):
    """A rule of the business was broken. `code` names it; `params` fill its message.

    `field` names the form field at fault, so an edge can show the message beside it.
    """

    def __init__(self, code: str, field: str | None = None, **params):
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """Someone else changed the same thing first (e.g. two experts completing one task)."""


class PermissionDenied(DomainError):
    pass
