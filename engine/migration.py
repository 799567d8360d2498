"""Moving running instances to a newer version of their process, where SpiffWorkflow's diff allows it."""

from dataclasses import dataclass

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from core.audit import audit
from core.errors import Conflict, DomainError
from engine import state
from engine.catalogue import SERIALIZER, specs_for
from engine.events import record
from engine.models import OPEN_STATUSES, Instance, ProcessVersion
from engine.runtime import advance, flush_or_conflict, lock


@dataclass(frozen=True)
class MigrationCheck:
    instance_id: int
    business_key: str
    can_move: bool
    reason: str  # why not, or what changes


def _target(session, instance: Instance, target_version_id: int) -> ProcessVersion:
    target = session.get(ProcessVersion, target_version_id)
    if target is None or target.process_key != instance.process_key:
        raise DomainError("migration.wrong_process", field="version")
    return target


def _name(task) -> str:
    return task.task_spec.bpmn_id or task.task_spec.name


def _attempt(instance: Instance, target: ProcessVersion):
    """Migrate a fresh copy of the workflow in memory: (workflow, changed task names, reason it cannot)."""
    workflow = state.load(instance.version, instance.state)
    if instance.status not in OPEN_STATUSES:
        return workflow, [], f"the instance is {instance.status}"
    if target.version <= instance.version.version:
        return workflow, [], "the target is not newer than the instance's version"
    spec, dependencies = specs_for(target)
    top, subprocesses = diff_workflow(SERIALIZER.registry, workflow, spec, dependencies)
    # Tasks not reached yet are re-predicted on the new spec; a task the instance has done or stands on is not.
    reached = TaskState.FINISHED_MASK | TaskState.READY | TaskState.WAITING | TaskState.STARTED
    blocking = sorted({_name(t) for t in top.removed if t.has_state(reached)})
    if blocking:
        return workflow, [], "tasks this instance has done or stands on are not in the new version: " + ", ".join(
            blocking)
    if any(diff is None for diff in subprocesses.values()):
        return workflow, [], "a running subprocess is not in the new version"
    changed = sorted({_name(t) for t in top.changed})
    migrate_workflow(top, workflow, spec)
    for sp_id, diff in subprocesses.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(diff, sub, dependencies[sub.spec.name])
    workflow.subprocess_specs = dependencies
    new_specs = {id(s) for s in spec.task_specs.values()} | {
        id(s) for dep in dependencies.values() for s in dep.task_specs.values()}
    leftover = sorted({_name(t) for t in workflow.get_tasks() if id(t.task_spec) not in new_specs})
    if leftover:
        return workflow, [], "tasks would be left on the old version: " + ", ".join(leftover)
    return workflow, changed, None


def check(session, instance: Instance, target_version_id: int) -> MigrationCheck:
    """A dry run: the migration is really attempted, in memory only."""
    target = _target(session, instance, target_version_id)
    _workflow, changed, reason = _attempt(instance, target)
    return MigrationCheck(instance.id, instance.business_key, reason is None,
                          reason or ("changed tasks: " + ", ".join(changed) if changed else "no task changed"))


def migrate(session, actor, instance_id: int, target_version_id: int) -> Instance:
    instance = lock(session, instance_id)
    target = _target(session, instance, target_version_id)
    workflow, _changed, reason = _attempt(instance, target)
    if reason is not None:
        raise Conflict("migration.refused", reason=reason)
    from_version = instance.version.version
    instance.version_id, instance.version = target.id, target
    advance(session, instance, actor, workflow=workflow)
    record(session, instance, actor, "migrated", data={"from": from_version, "to": target.version})
    audit(session, actor, "instance.migrated", instance, to_version=target.version)
    flush_or_conflict(session)
    return instance


def migrate_all(session, actor, from_version_id: int, target_version_id: int,
                dry_run: bool = True) -> list[MigrationCheck]:
    """Every open instance of a version: which can move and why the others cannot; moves them unless
    dry_run. Each instance moves on its own: one refusal does not stop the rest."""
    instances = session.scalars(select(Instance).where(Instance.version_id == from_version_id,
                                                       Instance.status.in_(OPEN_STATUSES))
                                .order_by(Instance.id)).all()
    results = []
    for instance in instances:
        verdict = check(session, instance, target_version_id)
        if verdict.can_move and not dry_run:
            with session.begin_nested():
                migrate(session, actor, instance.id, target_version_id)
        results.append(verdict)
    return results
