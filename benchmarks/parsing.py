"""Model parsing: one real page of 100 invoices (nested customer, line items) from the fake.

The SDK path is what every call runs: `_json.loads` (money as Decimal) and the generated
`parse_response`. It is timed against `json.loads` alone (the floor: decoding without models)
and against equivalent pydantic v2 models (benchmarks/_pydantic_models.py) both ways pydantic
is used: `model_validate_json(bytes)` (decoding in Rust) and `model_validate(json.loads(bytes))`,
the path of SDKs built on httpx + pydantic (`response.json()` then validation).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from thredfi_async import _json
from thredfi_async._generated.api.invoices import list_invoices

from ._harness import Figure, Target, interleave, median
from ._pydantic_models import PaginatedInvoiceList
from ._sizes import Sizes

__all__ = ["run"]


def run(page: bytes, sizes: Sizes) -> list[Figure]:
    contenders: dict[str, Callable[[], object]] = {
        "sdk": lambda: list_invoices.parse_response(_json.loads(page)),
        "json_loads": lambda: json.loads(page),
        "pydantic_json": lambda: PaginatedInvoiceList.model_validate_json(page),
        "pydantic_python": lambda: PaginatedInvoiceList.model_validate(json.loads(page)),
    }
    _check_equivalent(page)
    samples = interleave(contenders, rounds=sizes.parse_rounds, number=sizes.parse_number)
    us = {name: median(values) * 1e6 for name, values in samples.items()}
    items = len(json.loads(page)["results"])
    note = (
        f"one page of {items} invoices ({len(page) // 1024} KiB): sdk {us['sdk']:.0f} us, "
        f"json.loads {us['json_loads']:.0f} us, pydantic validate_json {us['pydantic_json']:.0f}"
        f" us, pydantic validate(json.loads) {us['pydantic_python']:.0f} us"
    )
    context: dict[str, Any] = {f"{name}_us": value for name, value in us.items()}
    context["items"] = items
    return [
        Figure(
            name="parsing.vs_json_loads",
            value=us["sdk"] / us["json_loads"],
            target=None,
            description="decode + models / json.loads alone: the price of typed models",
            note=note,
            context=context,
        ),
        Figure(
            name="parsing.vs_pydantic_validate_json",
            value=us["sdk"] / us["pydantic_json"],
            target=Target("<=", 1.0),
            description="decode + models / pydantic model_validate_json(bytes)",
            context=context,
        ),
        Figure(
            name="parsing.vs_pydantic_validate_python",
            value=us["sdk"] / us["pydantic_python"],
            target=Target("<=", 1.0),
            description="decode + models / pydantic model_validate(json.loads(bytes))",
            context=context,
        ),
    ]


def _check_equivalent(page: bytes) -> None:
    """The contenders must produce the same values, or the comparison means nothing."""
    ours = list_invoices.parse_response(_json.loads(page)).results
    theirs = PaginatedInvoiceList.model_validate_json(page).results
    if not isinstance(ours, list) or not theirs or len(ours) != len(theirs):
        raise RuntimeError("the SDK and pydantic models parsed different pages")
    for mine, other in zip(ours, theirs, strict=True):
        customer: Any = mine.customer
        assert other.customer is not None
        if (
            (mine.id, mine.business_id, mine.sent_at, mine.due_at)
            != (other.id, other.business_id, other.sent_at, other.due_at)
            or (customer.id, customer.outstanding_balance)
            != (other.customer.id, other.customer.outstanding_balance)
            or set(mine.additional_properties) != set(other.model_extra or {})
        ):
            raise RuntimeError(f"the SDK and pydantic models disagree on invoice {mine.id}")
