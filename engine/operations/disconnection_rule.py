"""The rule that starts disconnections (قطع انشعاب بدهکاران): a contract whose debt past due, with no grace
period running, is above the threshold gets a `disconnection` request, unless one is already open for it.

Run daily by the timer loop (madam.scheduler, from MADAM_DISCONNECTION_RULE_HOUR) and on demand by
`madam processes disconnect-overdue`; the caller commits. At most `limit` requests start in one run (the
oldest debts first); the rest start on the next run.
"""

from sqlalchemy import select

from core.regions import Region
from engine import runtime
from engine.models import Instance, InstanceStatus
from engine.operations.registry_ops import today
from ledger import queries
from subscribers.models import Contract

PROCESS_KEY = "disconnection"
DEFAULT_THRESHOLD = 5_000_000  # rials overdue


def start_due_disconnections(session, actor=None, *, threshold: int = DEFAULT_THRESHOLD, on=None,
                             limit: int = 500) -> list[Instance]:
    on = on or today()
    open_for = set(session.scalars(select(Instance.contract_id).where(
        Instance.process_key == PROCESS_KEY, Instance.contract_id.is_not(None),
        Instance.status.not_in([InstanceStatus.COMPLETED, InstanceStatus.TERMINATED]))))
    started = []
    for account, overdue, oldest in session.execute(queries.overdue(on, above=threshold)).all():
        if len(started) >= limit:
            break
        if account.contract_id in open_for:
            continue
        contract = session.get(Contract, account.contract_id)
        if contract is None or contract.status != "active":
            continue
        region = session.get(Region, contract.region_id)
        started.append(runtime.start_instance(
            session, actor, PROCESS_KEY, region, subscriber_id=contract.subscriber_id, contract_id=contract.id,
            data={"contract_id": contract.id, "overdue": int(overdue), "oldest_due_on": oldest.isoformat(),
                  "threshold": threshold}))
        open_for.add(contract.id)
    return started
