"""The WSGI entry for production servers: `gunicorn 'madam.wsgi:app'`."""

from madam.app import create_app

app = create_app()
