"""Bulk import and fan-out reads for many businesses: exactly once, resumable, in order.

```python
from thredfi_async.bulk import BulkImporter, SQLiteCheckpoint

async with AsyncThredfi() as thredfi:
    report = await BulkImporter(thredfi, checkpoint=SQLiteCheckpoint("sync.db")).run(records)
print(report.summary())
```
A record is `{"business_id", "kind", "data"}` (or a `Record`); `data` is the body of that
kind's create, and may name other records by `<name>_external_id` instead of `<name>_id`.
"""

from ._checkpoint import Checkpoint, MemoryCheckpoint, SQLiteCheckpoint
from ._events import Event, EventCallback, EventStream, Finished, Planned, RecordDone
from ._fanout import FanOutReport, fan_out
from ._importer import DEFAULT_CONCURRENCY, BulkImporter, idempotency_key, import_records
from ._kinds import KINDS, Kind, Reference, kind_order
from ._plan import BusinessPlan, plan_business
from ._records import ExternalIdFunction, Record, as_record, problems
from ._report import Failure, ImportReport, Outcome

__all__ = [
    "DEFAULT_CONCURRENCY",
    "KINDS",
    "BulkImporter",
    "BusinessPlan",
    "Checkpoint",
    "Event",
    "EventCallback",
    "EventStream",
    "ExternalIdFunction",
    "FanOutReport",
    "Failure",
    "Finished",
    "ImportReport",
    "Kind",
    "MemoryCheckpoint",
    "Outcome",
    "Planned",
    "Record",
    "RecordDone",
    "Reference",
    "SQLiteCheckpoint",
    "as_record",
    "fan_out",
    "idempotency_key",
    "import_records",
    "kind_order",
    "plan_business",
    "problems",
]
