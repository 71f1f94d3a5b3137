"""Every operation of the spec, called through its SDK method against the fake with valid input.

One of everything is created in dependency order (the recipe of tests/fake/test_conformance.py,
but through the public client), so every call has real ids to work on. Each answer must be a
2xx parsed into the model the endpoint module declares, or a page of the paginator's item type.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from thredfi_async import AsyncPaginator, AsyncThredfi
from thredfi_async.testing import FakeThredfi

from ..spec_samples import SpecOperation, operations
from ..test_operations import endpoint_module, facade_method, result_type_name

pytestmark = pytest.mark.asyncio

SPEC_OPERATIONS = {op.operation_id: op for op in operations()}
JUNE = {"start_date": datetime.date(2025, 6, 1), "end_date": datetime.date(2025, 6, 30)}
YEAR = {"start_date": datetime.date(2025, 1, 1), "end_date": datetime.date(2025, 12, 31)}


class Coverage:
    """Calls an operation by its operationId through the facade and checks what comes back."""

    def __init__(self, fake: FakeThredfi) -> None:
        self.fake = fake
        self.called: list[str] = []
        self.problems: list[str] = []

    async def __call__(self, operation_id: str, target: Any, *args: Any, **kwargs: Any) -> Any:
        op: SpecOperation = SPEC_OPERATIONS[operation_id]
        method = facade_method(target, op)
        self.called.append(operation_id)
        outcome = method(*args, **kwargs)
        if endpoint_module(op).OPERATION.paginated:
            assert isinstance(outcome, AsyncPaginator), operation_id
            page = await outcome
            self._check_type(operation_id, page.envelope, result_type_name(op))
            strays = [x for x in page.results if not isinstance(x, outcome.item_type)]
            if strays:
                self.problems.append(f"{operation_id}: items not {outcome.item_type.__name__}")
            result: Any = page
        else:
            result = await outcome
            self._check_type(operation_id, result, result_type_name(op))
        served = self.fake.requests.for_operation(operation_id)[-1]
        if served.status is None or not 200 <= served.status < 300:
            self.problems.append(f"{operation_id}: answered {served.status}")
        return result

    def _check_type(self, operation_id: str, result: Any, expected: str) -> None:
        actual = "None" if result is None else type(result).__name__
        if actual != expected:
            self.problems.append(f"{operation_id}: got {actual}, expected {expected}")


async def test_every_operation_answers_2xx_parsed_into_its_model(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    call = Coverage(fake)

    # -- tokens and businesses ---------------------------------------------------------------
    partner_token = await call(
        "get_partner_token",
        thredfi,
        body={"grant_type": "client_credentials", "client_id": fake.partner_uuid},
    )
    assert partner_token.access_token
    business = await call(
        "create_business",
        thredfi,
        body={
            "external_id": "coverage-1",
            "legal_name": "Coverage Ltd",
            "entity_type": "limited",
            "email": "owner@coverage.example",
            "country": "GB",
            "vat_number": "GB123456789",
        },
    )
    bid = str(business.id)
    books = thredfi.business(bid)
    minted = await call("get_business_token", books)
    assert str(minted.business_id) == bid
    listed = await call("list_businesses", thredfi)
    assert [str(b.id) for b in listed] == [bid]
    await call("get_business", books)
    updated = await call(
        "update_business",
        thredfi,
        business_id=bid,
        body={"phone_number": "+441234567890", "metadata": {"tier": "gold"}},
    )
    assert updated.phone_number == "+441234567890"
    seeded = fake.seed(
        business_id=bid, bank_accounts_per_business=1, transactions_per_bank_account=3
    )

    # -- customers ---------------------------------------------------------------------------
    customer = await call(
        "create_customer",
        books,
        body={
            "external_id": "cust-1",
            "company_name": "Acme Ltd",
            "email": "ap@acme.example",
            "address_line1": "1 High Street",
            "city": "London",
            "country": "GB",
            "payment_terms_days": 30,
            "credit_limit_cents": 500000,
        },
    )
    cid = str(customer.id)
    await call("list_customers", books)
    await call("get_customer", books, cid)
    await call("update_customer", books, cid, body={"notes": "VIP"})
    other = await call("create_customer", books, body={"individual_name": "Bo"})
    archived = await call("archive_customer", books, str(other.id), body={})
    assert archived.is_archived is True
    await call("unarchive_customer", books, str(other.id), body={})

    # -- invoices, payments, refunds, payouts, credits ----------------------------------------
    line_items = [
        {
            "description": "Consulting",
            "quantity": 2,
            "unit_price": 5000,
            "sales_taxes": [{"amount": 2000}],
        }
    ]
    invoice = await call(
        "create_invoice",
        books,
        body={
            "external_id": "inv-1",
            "customer_id": cid,
            "sent_at": "2025-06-01T09:00:00Z",
            "due_at": "2025-07-01T09:00:00Z",
            "line_items": line_items,
        },
    )
    iid = str(invoice.id)
    assert invoice.total_amount_cents == 12_000
    second = await call(
        "create_invoice",
        books,
        body={"customer_id": cid, "line_items": [{"quantity": 1, "unit_price": 3000}]},
    )
    await call("list_invoices", books)
    await call("get_invoice", books, iid)
    await call("update_invoice", books, iid, body={"memo": "Thanks", "line_items": line_items})
    payment = await call(
        "create_invoice_payment",
        books,
        body={
            "customer_id": cid,
            "total_amount_cents": 8000,
            "allocations": [{"invoice_id": iid, "amount_cents": 8000}],
            "payment_date": "2025-06-10",
            "currency": "GBP",
            "payment_method": "bank_transfer",
            "payment_reference": "PAY-1",
        },
        idempotency_key="coverage-payment-1",
    )
    pid = str(payment.payment.id)
    await call("list_invoice_payments", books)
    await call("get_invoice_payment", books, pid)
    await call(
        "update_invoice_payment",
        books,
        pid,
        body={"payment_reference": "PAY-1b", "bank_reference": "BANK-1"},
    )
    await call("partial_update_invoice_payment", books, pid, body={"status": "completed"})
    pending = await call(
        "create_invoice_payment",
        books,
        body={
            "customer_id": cid,
            "total_amount_cents": 1000,
            "allocations": [{"invoice_id": str(second.id), "amount_cents": 1000}],
        },
    )
    await call("delete_invoice_payment", books, str(pending.payment.id))
    refund = await call(
        "create_refund",
        books,
        body={"invoice_id": iid, "amount_cents": 3000, "method": "CASH", "memo": "Returned"},
    )
    rid = str(refund.id)
    await call("list_refunds", books)
    await call("get_refund", books, rid)
    refund_payment = await call(
        "create_refund_payment",
        books,
        rid,
        body={"amount_cents": 1000, "method": "BANK_TRANSFER", "external_id": "rp-1"},
    )
    await call("list_refund_payments", books, rid)
    await call("fetch_refund_payment", books, rid, str(refund_payment.id))
    spare = await call("create_refund_payment", books, rid, body={"amount_cents": 500})
    await call("delete_refund_payment", books, rid, str(spare.id))
    doomed = await call("create_refund", books, body={"invoice_id": iid, "amount_cents": 100})
    await call("delete_refund", books, str(doomed.id))
    payout = await call(
        "create_payout",
        books,
        body={
            "external_id": "po-1",
            "processor": "stripe",
            "paid_out_amount_cents": 8000,
            "fee_cents": 120,
            "currency": "GBP",
            "status": "paid",
            "completed_at": "2025-06-12T00:00:00Z",
            "payment_ids": [pid],
            "refund_payment_ids": [str(refund_payment.id)],
        },
    )
    await call("list_payouts", books)
    await call("get_payout", books, str(payout.id))
    await call("delete_payout", books, str(payout.id))
    credit = await call(
        "create_customer_credit",
        books,
        body={
            "customer_id": cid,
            "line_items": [{"amount": 1500, "memo": "Goodwill", "tags": [{"name": "promo"}]}],
            "allocations": [{"invoice_id": str(second.id), "amount": 1000}],
        },
    )
    credit_id = str(credit.id)
    await call("list_customer_credits", books)
    await call("get_customer_credit", books, credit_id)
    await call(
        "update_customer_credit",
        books,
        credit_id,
        body={"memo": "Updated", "metadata": {"case": 42}},
    )
    await call("delete_customer_credit", books, credit_id)
    voided = await call("void_invoice", books, str(second.id), body={})
    assert voided.status == "VOIDED"

    # -- vendors, bills, payments, credits, refunds ------------------------------------------
    vendor = await call(
        "create_vendor",
        books,
        body={"external_id": "v-1", "company_name": "Paper Co", "email": "ar@paper.example"},
    )
    vid = str(vendor.id)
    await call("list_vendors", books)
    await call("get_vendor", books, vid)
    await call("update_vendor", books, vid, body={"memo": "Monthly"})
    await call("archive_vendor", books, vid, body={})
    await call("unarchive_vendor", books, vid, body={})
    bill = await call(
        "create_bill",
        books,
        body={
            "external_id": "bill-1",
            "vendor_id": vid,
            "bill_number": "B-1",
            "bill_date": "2025-06-02",
            "due_at": "2025-07-02T00:00:00Z",
            "line_items": [{"quantity": 1, "unit_price": 20000, "sales_taxes": [{"amount": 4000}]}],
        },
    )
    bill_id = str(bill.id)
    await call("list_bills", books)
    await call("get_bill", books, bill_id)
    await call("update_bill", books, bill_id, body={"memo": "Checked"})
    bill_payment = await call(
        "create_bill_payment",
        books,
        body={
            "vendor_id": vid,
            "amount_cents": 10000,
            "payment_method": "bank_transfer",
            "payment_date": "2025-06-05",
            "currency": "GBP",
            "allocations": [{"bill_id": bill_id, "amount_cents": 10000}],
        },
        idempotency_key="coverage-bill-payment",
    )
    await call("list_bill_payments", books)
    await call("get_bill_payment", books, str(bill_payment.id))
    await call(
        "update_bill_payment",
        books,
        str(bill_payment.id),
        body={"status": "processing", "memo": "sent to bank"},
    )
    cancelled = await call(
        "create_bill_payment",
        books,
        body={
            "vendor_id": vid,
            "amount_cents": 500,
            "payment_method": "cash",
            "payment_date": "2025-06-06",
        },
    )
    await call("delete_bill_payment", books, str(cancelled.id))
    vendor_credit = await call(
        "create_vendor_credit",
        books,
        body={
            "external_id": "vc-1",
            "vendor_id": vid,
            "line_items": [{"amount": 2000, "memo": "Damaged goods"}],
            "allocations": [{"bill_id": bill_id, "amount": 1000}],
        },
    )
    vcid = str(vendor_credit.id)
    await call("list_vendor_credits", books)
    await call("get_vendor_credit", books, vcid)
    await call("update_vendor_credit", books, vcid, body={"tags": [{"name": "q2"}]})
    await call("delete_vendor_credit", books, vcid)
    vendor_refund = await call(
        "create_vendor_refund",
        books,
        body={
            "vendor_id": vid,
            "total_refunded_amount_cents": 3000,
            "currency": "GBP",
            "external_id": "vr-1",
            "refund_type": "overpayment",
            "allocations": [{"allocation_type": "bill", "bill_id": bill_id, "amount_cents": 1000}],
            "payments": [{"refunded_amount_cents": 1000, "payment_method": "bank_transfer"}],
        },
    )
    await call("list_vendor_refunds", books)
    await call("get_vendor_refund", books, str(vendor_refund.id))
    await call(
        "update_vendor_refund",
        books,
        str(vendor_refund.id),
        body={"memo": "Confirmed by vendor", "expected_completion_date": "2025-07-01"},
    )
    triple = await call(
        "create_vendor_refund_payment",
        books,
        body={
            "vendor_id": vid,
            "total_amount_cents": 2500,
            "refund_type": "billing_error",
            "allocations": [{"allocation_type": "credit", "amount_cents": 2500}],
        },
        idempotency_key="coverage-vrp",
    )
    vrp = str(triple.payment.id)
    await call("list_vendor_refund_payments", books)
    await call("get_vendor_refund_payment", books, vrp)
    await call(
        "update_vendor_refund_payment",
        books,
        vrp,
        body={"memo": "tracking 123"},
    )
    await call("delete_vendor_refund_payment", books, vrp)
    await call("delete_vendor_refund", books, str(triple.refund.id))
    await call("void_bill", books, bill_id, body={})

    # -- ledger ------------------------------------------------------------------------------
    await call("list_chart_of_accounts", books)
    account = await call(
        "create_account",
        books,
        body={
            "code": "1010",
            "name": "Savings",
            "account_type": "asset",
            "account_subtype": "current_assets",
            "is_cash_account": True,
            "external_id": "acc-savings",
        },
    )
    child = await call(
        "create_child_account",
        books,
        str(account.id),
        body={"code": "1011", "name": "Savings sub-pot"},
    )
    await call("get_chart_of_accounts_hierarchy", books)
    await call("get_account_detail", books, "1000")
    await call("update_account", books, str(child.id), body={"name": "Rainy day pot"})
    await call("archive_account", books, str(child.id))
    await call("get_account_entries", books, "1100", **JUNE)
    entries = await call("list_journal_entries", books)
    await call("get_journal_entry_detail", books, str(entries.results[0].id))

    # -- bank feeds, reports, menu -----------------------------------------------------------
    await call("list_bank_accounts", books)
    await call("retrieve_bank_account", books, seeded.bank_account_ids[0])
    transactions = await call("list_bank_transactions", books)
    assert len(transactions) == 3
    await call("get_ap_aging", books)
    await call("get_ar_aging", books)
    await call("get_financial_summary", books, granularity="quarterly", **YEAR)
    await call(
        "get_balance_sheet",
        books,
        as_of_date=datetime.date(2025, 6, 30),
        detail_level="detailed",
    )
    await call("get_profit_and_loss", books, detail_level="detailed", **YEAR)
    await call("get_cash_flow_statement", books, detail_level="detailed", **YEAR)
    await call("get_menu_config", books)
    await call(
        "update_menu_config",
        books,
        body={
            "menu": {"accounts_payable": True},
            "sub_menu_tabs": {"reports.balance_sheet": False},
        },
    )
    await call("reset_menu_config", books)

    # -- every operation, once or more, and nothing else ---------------------------------------
    assert not call.problems, "\n".join(call.problems)
    assert len(SPEC_OPERATIONS) == 93
    assert len(set(call.called)) == 93
    assert set(call.called) == set(SPEC_OPERATIONS)
    served = {
        r.operation_id
        for r in fake.requests
        if r.operation_id is not None and r.status is not None and 200 <= r.status < 300
    }
    assert served == set(SPEC_OPERATIONS), sorted(set(SPEC_OPERATIONS) ^ served)
    assert served == set(fake.operations)
    assert all(r.status is not None and r.status < 400 for r in fake.requests), [
        (r.operation_id, r.status) for r in fake.requests if r.status is None or r.status >= 400
    ]
    assert fake.server_errors == []
