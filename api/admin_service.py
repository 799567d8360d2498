"""What the admin pages (web/api_admin.py) ask of the API package. `web` may not import `api`, so the
composition root hands this module to the web layer as `app.extensions["madam_api_admin"]`."""

from sqlalchemy import select

from api import clients as client_ops
from api import webhooks
from api.models import ApiClient, ApiToken, WebhookSubscription
from api.webhooks import EVENTS  # noqa: F401  (the events a page offers)

create_client = client_ops.create_client
issue_token = client_ops.issue_token
revoke_token = client_ops.revoke_token
set_client_active = client_ops.set_client_active
subscribe = webhooks.subscribe
set_webhook_active = webhooks.set_active
redeliver = webhooks.redeliver
deliveries = webhooks.deliveries


def list_clients(session) -> list[tuple[ApiClient, list[ApiToken]]]:
    return [(c, list(c.tokens)) for c in client_ops.clients(session)]


def get_client(session, client_id: int) -> ApiClient | None:
    return session.get(ApiClient, client_id)


def list_webhooks(session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))
