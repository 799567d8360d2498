"""Process metrics per version: how many start and finish, how long cases and steps take."""

from dataclasses import dataclass

from sqlalchemy import func, select

from engine.models import Instance, InstanceStatus, WorkItem, WorkItemStatus


@dataclass(frozen=True)
class StepMetrics:
    task_name: str
    title: str
    count: int
    waiting_avg_h: float  # from the item's arrival until someone took it
    waiting_p95_h: float
    working_avg_h: float  # from taking it until it was done
    working_p95_h: float


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _avg(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def version_summary(session, version_id: int) -> dict:
    started = session.scalar(select(func.count(Instance.id)).where(Instance.version_id == version_id))
    done = session.execute(select(Instance.created_at, Instance.completed_at).where(
        Instance.version_id == version_id, Instance.status == InstanceStatus.COMPLETED)).all()
    durations = [(end - start).total_seconds() / 3600 for start, end in done if end]
    return {"started": started, "completed": len(done), "avg_duration_h": _avg(durations),
            "p95_duration_h": _p95(durations)}


def step_metrics(session, version_id: int, limit: int = 50_000) -> list[StepMetrics]:
    """Per step of the version, slowest first (by p95 of waiting plus working time)."""
    rows = session.execute(
        select(WorkItem.task_name, WorkItem.title, WorkItem.created_at, WorkItem.claimed_at, WorkItem.completed_at)
        .join(Instance, WorkItem.instance_id == Instance.id)
        .where(Instance.version_id == version_id, WorkItem.status == WorkItemStatus.COMPLETED)
        .order_by(WorkItem.id.desc()).limit(limit)).all()
    grouped: dict[str, dict] = {}
    for name, title, created, claimed, completed in rows:
        entry = grouped.setdefault(name, {"title": title, "waiting": [], "working": []})
        taken = claimed or completed
        entry["waiting"].append(max(0.0, (taken - created).total_seconds() / 3600))
        entry["working"].append(max(0.0, (completed - taken).total_seconds() / 3600))
    metrics = [StepMetrics(name, e["title"], len(e["waiting"]), _avg(e["waiting"]), _p95(e["waiting"]),
                           _avg(e["working"]), _p95(e["working"])) for name, e in grouped.items()]
    return sorted(metrics, key=lambda m: m.waiting_p95_h + m.working_p95_h, reverse=True)
