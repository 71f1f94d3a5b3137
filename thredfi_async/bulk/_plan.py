"""One business's records in the order they can be created, and what cannot be, locally.

The order is the kinds' dependency order (customers before invoices, invoices before payments,
refunds before refund payments, as the Thredfi guides require), whatever order the input has.
A record is refused here, before anything is sent, when it is invalid on its own, repeats
another's external_id, or refers to a record that is neither in the input nor already done.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ._kinds import kind_order
from ._records import Record, problems
from ._references import Key, dependencies

__all__ = ["BusinessPlan", "dry_run", "plan_business"]


@dataclass(slots=True)
class BusinessPlan:
    business_id: str
    waves: list[list[tuple[Record, list[Key]]]] = field(default_factory=list)
    refused: list[tuple[Record, str]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(w) for w in self.waves)


def plan_business(
    business_id: str, records: Iterable[Record], done: Mapping[Key, str]
) -> BusinessPlan:
    plan = BusinessPlan(business_id)
    valid: dict[Key, Record] = {}
    for record in records:
        found = problems(record)
        key = (record.kind, record.external_id or "")
        if not found and key in valid:
            other = valid[key].source
            found = [
                f"external_id repeats another {record.kind}'s" + (f" ({other})" if other else "")
            ]
        if found:
            plan.refused.append((record, "; ".join(found)))
        else:
            valid[key] = record
    known = set(valid) | set(done)
    refused_keys = {(r.kind, r.external_id or "") for r, _ in plan.refused}
    by_kind: dict[str, list[tuple[Record, list[Key]]]] = {}
    for record in valid.values():
        needs = dependencies(record.kind, record.data)
        absent = [n for n in needs if n not in known and n not in refused_keys]
        if absent:
            names = ", ".join(f"{k} {e!r}" for k, e in absent)
            plan.refused.append((record, f"refers to {names}: not in the input nor already done"))
            continue
        by_kind.setdefault(record.kind, []).append((record, needs))
    plan.waves = [by_kind[kind] for kind in kind_order() if kind in by_kind]
    return plan


def dry_run(
    records: Iterable[Record], done: Mapping[str, Mapping[Key, str]] | None = None
) -> tuple[list[BusinessPlan], list[tuple[Record, str]]]:
    """Every business's plan and every record refused, checked locally: nothing is sent.

    `done` is what a checkpoint already holds, per business, for references to earlier runs.
    """
    grouped: dict[str, list[Record]] = {}
    for record in records:
        grouped.setdefault(record.business_id, []).append(record)
    plans = [plan_business(b, group, (done or {}).get(b, {})) for b, group in grouped.items()]
    return plans, [refused for plan in plans for refused in plan.refused]
