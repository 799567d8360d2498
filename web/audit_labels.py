"""Words for the audit log's action codes and object types, so the log reads as sentences."""

from flask_babel import lazy_gettext as _l

ACTIONS = {
    "login.succeeded": _l("Signed in"),
    "login.failed": _l("Wrong password"),
    "login.locked": _l("Account locked after wrong passwords"),
    "login.refused_locked": _l("Sign-in refused: account locked"),
    "login.refused_inactive": _l("Sign-in refused: account deactivated"),
    "login.unknown_user": _l("Sign-in with an unknown username"),
    "logout": _l("Signed out"),
    "logout.expired": _l("Session expired"),
    "user.created": _l("User created"),
    "user.updated": _l("User changed"),
    "user.password_set": _l("Password set"),
    "user.unlocked": _l("Account unlocked"),
    "user.role_assigned": _l("Role given"),
    "user.role_removed": _l("Role taken away"),
    "user.language_set": _l("Language changed"),
    "role.permissions_set": _l("Role permissions set"),
    "region.created": _l("Region added"),
    "process.deployed": _l("Procedure version deployed"),
    "process.draft_created": _l("Procedure draft created"),
    "process.draft_deleted": _l("Procedure draft deleted"),
    "process.imported": _l("Procedure imported"),
    "instance.suspended": _l("Request suspended"),
    "instance.resumed": _l("Request resumed"),
    "instance.terminated": _l("Request terminated"),
    "instance.retried": _l("Failed step retried"),
    "instance.task_skipped": _l("Step skipped"),
    "instance.token_moved": _l("Request sent back to a step"),
    "instance.data_changed": _l("Request data corrected"),
    "instance.migrated": _l("Request moved to a new version"),
    "work_item.reassigned": _l("Task handed to another expert"),
}

OBJECT_TYPES = {
    "User": _l("User"),
    "Role": _l("Role"),
    "Region": _l("Region"),
    "ProcessVersion": _l("Procedure version"),
    "Instance": _l("Request"),
    "WorkItem": _l("Task"),
}


def init(app) -> None:
    app.jinja_env.filters.update(
        audit_action=lambda code: ACTIONS.get(code, code),
        audit_object=lambda name: OBJECT_TYPES.get(name, name),
    )
