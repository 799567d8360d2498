"""Words for the cartable's codes: timeline actions, instance statuses, step titles."""

from flask_babel import lazy_gettext as _l

from engine import catalogue

ACTIONS = {
    "started": _l("Request registered"), "claimed": _l("Task taken"), "unclaimed": _l("Task put back"),
    "completed": _l("Step done"), "referred": _l("Referred"), "returned": _l("Returned to the previous step"),
    "commented": _l("Comment"), "document_attached": _l("Document attached"),
    "escalated": _l("Escalated"), "timer_fired": _l("Deadline reached"),
    "message_caught": _l("Message received"), "failed": _l("Failed"), "retry_scheduled": _l("Retry scheduled"),
    "retried": _l("Retried"), "skipped": _l("Step skipped"), "suspended": _l("Suspended"),
    "resumed": _l("Resumed"), "terminated": _l("Terminated"), "reassigned": _l("Reassigned"),
    "migrated": _l("Moved to a new version"), "moved": _l("Sent back to an earlier step"),
    "data_changed": _l("Data corrected"),
}
STATUSES = {
    "running": _l("In progress"), "waiting": _l("Waiting"), "error": _l("Stopped by an error"),
    "suspended": _l("Suspended"), "completed": _l("Finished"), "terminated": _l("Terminated"),
}


def step_title(task_name: str, instance) -> str:
    spec, subprocess_specs = catalogue.specs_for(instance.version)
    for s in (spec, *subprocess_specs.values()):
        for task_spec in s.task_specs.values():
            if task_spec.bpmn_id == task_name:
                return task_spec.bpmn_name or task_name
    return task_name


def init(app) -> None:
    app.jinja_env.filters.update(
        timeline_action=lambda code: ACTIONS.get(code, code),
        instance_status=lambda code: STATUSES.get(code, code),
        step_title=step_title,
    )
