"""Small pieces: exact JSON, money formatting, the clock, the spec loader and its corrections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import anyio
import pytest

from thredfi_async._json import dumps_exact as dumps
from thredfi_async.testing import FakeClock, RecordingClock
from thredfi_async.testing._books.money import format_money, major, round_minor
from thredfi_async.testing._server.spec import OperationTable, load_spec
from thredfi_async.testing._server.validation import loads


def test_json_keeps_decimals_exact_both_ways() -> None:
    data = loads(b'{"a": 40.10, "b": 3, "c": [0.1, 1e2]}')
    assert data == {"a": Decimal("40.10"), "b": 3, "c": [Decimal("0.1"), Decimal("1E+2")]}
    assert dumps(data) == b'{"a":40.10,"b":3,"c":[0.1,1E+2]}'
    assert dumps({"text": "@@decimal-not-a-marker", "é": "ü"}) == (
        '{"text":"@@decimal-not-a-marker","é":"ü"}'.encode()
    )
    with pytest.raises(ValueError, match="non-finite"):
        dumps({"x": Decimal("NaN")})
    with pytest.raises(ValueError, match="NaN is not valid JSON"):
        loads(b'{"x": NaN}')


def test_money_helpers() -> None:
    assert major(4010, "GBP") == Decimal("40.10")
    assert str(major(5, "EUR")) == "0.05"
    assert major(1234, "ISK") == Decimal("1234")
    assert format_money(1250050, "GBP") == "£12,500.50"
    assert format_money(-99, "USD") == "-$0.99"
    assert format_money(100, "SEK") == "1.00 SEK"
    assert round_minor(Decimal("4997.5")) == 4998
    assert round_minor(Decimal("-0.5")) == -1


def test_clock_follows_the_wall_or_stands_still() -> None:
    frozen = FakeClock(datetime(2025, 1, 1, tzinfo=UTC))
    frozen.advance(90)
    assert frozen.now() == datetime(2025, 1, 1, 0, 1, 30, tzinfo=UTC)
    wall = FakeClock()
    before = datetime.now(UTC)
    wall.advance(3600)
    assert wall.now() - before >= timedelta(seconds=3599)
    wall.set(datetime(2030, 5, 5))
    assert wall.today().isoformat() == "2030-05-05"


def test_the_recording_clock_records_waits_and_each_is_still_a_checkpoint() -> None:
    clock = RecordingClock(now=1000.0)

    async def cancelled_sleep() -> bool:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await clock.sleep(2.5)
        return scope.cancelled_caught

    for backend in ("asyncio", "trio"):
        assert anyio.run(cancelled_sleep, backend=backend)
    assert clock.sleeps == [2.5, 2.5]
    assert clock.time() == 1005.0
    clock.advance(60)
    assert clock.time() == 1065.0
    assert clock.sleeps == [2.5, 2.5]


REPORT_OPERATIONS = frozenset(
    {
        "get_ap_aging",
        "get_ar_aging",
        "get_financial_summary",
        "get_balance_sheet",
        "get_profit_and_loss",
        "get_cash_flow_statement",
    }
)


def test_the_packaged_spec_carries_the_sdk_corrections() -> None:
    table = OperationTable(load_spec())
    for operation_id in REPORT_OPERATIONS:
        schema: dict[str, Any] = table.operations[operation_id].responses[200] or {}
        assert schema.get("type") == "object", operation_id
    params = [(p.location, p.name) for p in table.operations["list_bank_accounts"].params]
    assert params.count(("query", "business_id")) == 0
    assert ("path", "business_id") in params
    token = table.operations["get_partner_token"]
    assert token.body_content_types[0] == "application/x-www-form-urlencoded"


def test_the_packaged_spec_has_93_routable_operations() -> None:
    table = OperationTable(load_spec())
    assert len(table.operations) == 93
    matched = table.match("GET", "/v1/platform/businesses/b/invoices/payments/")
    assert matched is not None
    assert matched[0].operation_id == "list_invoice_payments"
    matched = table.match(
        "GET", "/v1/platform/businesses/b/general-ledger/chart-of-accounts/hierarchy/"
    )
    assert matched is not None
    assert matched[0].operation_id == "get_chart_of_accounts_hierarchy"
    matched = table.match("GET", "/v1/platform/businesses/b/invoices/refunds/r/payments/p/")
    assert matched is not None
    assert matched[1] == {
        "business_id": "b",
        "refund_id": "r",
        "payment_id": "p",
    }
    assert table.match("GET", "/v1/platform/businesses/b/invoices") is None


def test_a_spec_mapping_can_be_served() -> None:
    from thredfi_async.testing import FakeThredfi
    from thredfi_async.testing._server.spec import load_spec as load

    fake = FakeThredfi(spec=load())
    assert len(fake.operations) == 93


def test_every_field_of_the_records_is_used() -> None:
    # A field nothing reads or writes outside its declaration is dead state that looks live.
    import dataclasses
    import re
    from pathlib import Path

    from thredfi_async.testing._books import ledger as _ledger
    from thredfi_async.testing._books import state as _state

    package = Path(_state.__file__).parents[1]  # the whole fake, every layer
    sources = {str(path): path.read_text(encoding="utf-8") for path in package.rglob("*.py")}
    unused = []
    for module in (_state, _ledger):
        for record in vars(module).values():
            if not (
                isinstance(record, type)
                and dataclasses.is_dataclass(record)
                and record.__module__ == module.__name__
            ):
                continue
            for record_field in dataclasses.fields(record):
                name = record_field.name
                declaration = re.compile(rf"^\s+{name}:", re.MULTILINE)
                use = re.compile(rf"\.{name}\b|[\"']{name}[\"']|\b{name}=")
                if not any(use.search(declaration.sub("", text)) for text in sources.values()):
                    unused.append(f"{record.__name__}.{name}")
    assert unused == []
