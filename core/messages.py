"""The user's words for each DomainError code. English message ids, Persian in the catalogue."""

from flask_babel import gettext

from core.errors import DomainError

_MESSAGES = {
    "field.required": lambda p: gettext("This field is required."),
    "password.too_short": lambda p: gettext("The password must be at least %(n)s characters.", n=p.get("minimum")),
    "user.username_invalid": lambda p: gettext(
        "A username is 3 to 64 Latin letters, digits, dots, dashes or underscores, starting with a letter."
    ),
    "user.username_taken": lambda p: gettext("This username is already taken."),
    "user.cannot_deactivate_self": lambda p: gettext("You cannot deactivate your own account."),
    "national_id.invalid": lambda p: gettext("This national ID is not valid."),
    "mobile.invalid": lambda p: gettext("A mobile number is 11 digits starting with 09."),
    "jalali_date.invalid": lambda p: gettext("Enter a Jalali date like 1403/12/30."),
}


def register_messages(messages: dict) -> None:
    """A package adds the words for its own error codes: {code: lambda params: gettext(...)}."""
    _MESSAGES.update(messages)


def message_for(error: DomainError) -> str:
    render = _MESSAGES.get(error.code)
    if render is None:
        return gettext("The operation could not be done (%(code)s).", code=error.code)
    return render(error.params)
