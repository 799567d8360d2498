"""The reports, in the order the reports page lists them."""

from reports import (
    billing_summary,
    broken_meters,
    collections,
    consumption,
    deadlines,
    debtors,
    open_requests,
    outages,
)

REPORTS = {r.key: r for r in (debtors.REPORT, deadlines.REPORT, broken_meters.REPORT, outages.REPORT,
                              collections.REPORT, open_requests.REPORT, consumption.REPORT,
                              billing_summary.REPORT)}
