"""The user's words for the API's own error codes (English ids; Persian in api.po)."""

from flask_babel import gettext

from core.messages import register_messages

MESSAGES = {
    "api.bill_unknown": lambda p: gettext("No contract has this bill ID."),
    "api.client_name_invalid": lambda p: gettext("Enter the client's name (up to 100 characters)."),
    "api.client_name_taken": lambda p: gettext("A client with this name already exists."),
    "api.client_unknown": lambda p: gettext("There is no such client."),
    "api.scope_unknown": lambda p: gettext("Choose at least one scope from the list."),
    "api.region_unknown": lambda p: gettext("Choose at least one existing region."),
    "api.rate_limit_invalid": lambda p: gettext("The rate limit is 1 to 100,000 requests a minute."),
    "api.token_unknown": lambda p: gettext("There is no such token."),
    "api.webhook_url_invalid": lambda p: gettext("Enter an http or https address."),
    "api.webhook_url_private": lambda p: gettext(
        "This address is on this server or the private network; webhooks go to the receiver's public address."),
    "api.webhook_events_invalid": lambda p: gettext("Choose at least one event from: %(events)s.",
                                                    events=p.get("events", "")),
    "api.webhook_unknown": lambda p: gettext("There is no such webhook."),
    "api.delivery_unknown": lambda p: gettext("There is no such delivery."),
}

register_messages(MESSAGES)
