"""The user's words for the engine's error codes (Persian in the platform catalogue)."""

from flask_babel import gettext

from core.messages import register_messages

register_messages({
    "work_item.unknown": lambda p: gettext("This task does not exist."),
    "work_item.done": lambda p: gettext("This task has already been done by someone else. Nothing you typed was "
                                        "lost: it is still in the form below."),
    "work_item.claimed_by_other": lambda p: gettext("Another expert has taken this task."),
    "work_item.not_yours": lambda p: gettext("This task is not in your cartable."),
    "work_item.refer_to_one": lambda p: gettext("Choose either a person or a role to refer to."),
    "work_item.nothing_before": lambda p: gettext("There is no earlier step to return this case to."),
    "role.unknown": lambda p: gettext("There is no such role."),
    "instance.unknown": lambda p: gettext("This request does not exist."),
    "instance.closed": lambda p: gettext("This request is already closed."),
    "instance.suspended": lambda p: gettext("This request is suspended by an administrator."),
    "instance.changed": lambda p: gettext("Someone changed this request at the same moment. Please try again."),
    "task.gone": lambda p: gettext("This step no longer exists in the request."),
    "process.unknown": lambda p: gettext("There is no such procedure."),
    "instance.cannot_move_token": lambda p: gettext("The request has not passed that step; it can only be sent back."),
    "instance.not_in_error": lambda p: gettext("The request is not stopped by an error."),
    "instance.not_suspended": lambda p: gettext("The request is not suspended."),
    "migration.wrong_process": lambda p: gettext("That version belongs to another procedure."),
    "process.invalid": lambda p: gettext("The procedure's diagram has errors."),
    "migration.refused": lambda p: gettext("This request cannot move to the new version: %(reason)s",
                                           reason=p.get("reason", "")),
})
