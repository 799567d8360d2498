"""Error pages in the user's language: 400 (including a stale form), 403, 404, 413, 500."""

from flask import render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from core.db import db


def init(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(400, _("This form has expired or did not come from this site. Reload the page and try again."))

    @app.errorhandler(400)
    def bad_request(error):
        return _page(400, _("The request was not understood."))

    @app.errorhandler(403)
    def forbidden(error):
        return _page(403, _("You do not have permission to see this page."))

    @app.errorhandler(404)
    def not_found(error):
        return _page(404, _("This page does not exist."))

    @app.errorhandler(405)
    def not_allowed(error):
        return _page(405, _("This page cannot be used this way."))

    @app.errorhandler(413)
    def too_large(error):
        return _page(413, _("The file is larger than allowed."))

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _page(500, _("Something went wrong on our side. The error has been recorded; please try again."))


def _page(status: int, message: str):
    return render_template("error.html", status=status, message=message), status
