"""Every operation of the spec, called once with valid input, answers 2xx with a body that
validates against the operation's success schema in the corrected spec."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from thredfi_async.testing import FakeThredfi

from ._support import Api, schema_errors

pytestmark = pytest.mark.anyio


class Conformance:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.called: set[str] = set()
        self.failures: list[str] = []

    def check(self, operation_id: str, response: httpx.Response) -> Any:
        self.called.add(operation_id)
        if not 200 <= response.status_code < 300:
            self.failures.append(f"{operation_id}: {response.status_code} {response.text}")
            return None
        for error in schema_errors(operation_id, response):
            self.failures.append(f"{operation_id}: {error}")
        return response.json() if response.content else None

    async def books(self, operation_id: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.api.books(self.business_id, method, path, **kwargs)
        return self.check(operation_id, response)

    async def partner(self, operation_id: str, method: str, path: str, **kwargs: Any) -> Any:
        return self.check(operation_id, await self.api.partner(method, path, **kwargs))

    business_id: str


async def test_every_operation_answers_2xx_and_matches_its_schema(
    fake: FakeThredfi, api: Api
) -> None:
    c = Conformance(api)
    http = api.http

    # -- tokens and businesses ---------------------------------------------------------------
    token = await http.post(
        "/v1/platform/oauth2/token/",
        auth=(fake.partner_uuid, fake.api_key),
        data={"grant_type": "client_credentials", "client_id": fake.partner_uuid},
    )
    c.check("get_partner_token", token)
    business = await c.partner(
        "create_business",
        "POST",
        "/v1/platform/businesses/",
        json={
            "external_id": "conformance-1",
            "legal_name": "Conformance Ltd",
            "entity_type": "limited",
            "email": "owner@conformance.example",
            "country": "GB",
            "vat_number": "GB123456789",
        },
    )
    c.business_id = bid = business["id"]
    c.check(
        "get_business_token",
        await api.partner("POST", f"/v1/platform/{bid}/oauth2/token/"),
    )
    await c.partner("list_businesses", "GET", "/v1/platform/businesses/")
    await c.partner("get_business", "GET", f"/v1/platform/businesses/{bid}/")
    await c.partner(
        "update_business",
        "PATCH",
        f"/v1/platform/businesses/{bid}/",
        json={"phone_number": "+441234567890", "metadata": {"tier": "gold"}},
    )
    seeded = fake.seed(
        business_id=bid, bank_accounts_per_business=1, transactions_per_bank_account=3
    )

    # -- customers ---------------------------------------------------------------------------
    customer = await c.books(
        "create_customer",
        "POST",
        "/customers/",
        json={
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
    cid = customer["id"]
    await c.books("list_customers", "GET", "/customers/")
    await c.books("get_customer", "GET", f"/customers/{cid}/")
    await c.books("update_customer", "PATCH", f"/customers/{cid}/", json={"notes": "VIP"})
    other = await c.books("create_customer", "POST", "/customers/", json={"individual_name": "Bo"})
    await c.books("archive_customer", "POST", f"/customers/{other['id']}/archive/", json={})
    await c.books("unarchive_customer", "POST", f"/customers/{other['id']}/unarchive/", json={})

    # -- invoices, payments, refunds, payouts, credits ----------------------------------------
    invoice_body = {
        "external_id": "inv-1",
        "customer_id": cid,
        "sent_at": "2025-06-01T09:00:00Z",
        "due_at": "2025-07-01T09:00:00Z",
        "line_items": [
            {
                "description": "Consulting",
                "quantity": 2,
                "unit_price": 5000,
                "sales_taxes": [{"amount": 2000}],
            }
        ],
    }
    invoice = await c.books("create_invoice", "POST", "/invoices/", json=invoice_body)
    iid = invoice["id"]
    second = await c.books(
        "create_invoice",
        "POST",
        "/invoices/",
        json={"customer_id": cid, "line_items": [{"quantity": 1, "unit_price": 3000}]},
    )
    await c.books("list_invoices", "GET", "/invoices/")
    await c.books("get_invoice", "GET", f"/invoices/{iid}/")
    await c.books(
        "update_invoice",
        "PUT",
        f"/invoices/{iid}/",
        json={"memo": "Thanks", "line_items": invoice_body["line_items"]},
    )
    payment = await c.books(
        "create_invoice_payment",
        "POST",
        "/invoices/payments/",
        json={
            "customer_id": cid,
            "total_amount_cents": 8000,
            "allocations": [{"invoice_id": iid, "amount_cents": 8000}],
            "payment_date": "2025-06-10",
            "currency": "GBP",
            "payment_method": "bank_transfer",
            "payment_reference": "PAY-1",
        },
        headers={"Idempotency-Key": "conformance-payment-1"},
    )
    pid = payment["payment"]["id"]
    await c.books("list_invoice_payments", "GET", "/invoices/payments/")
    await c.books("get_invoice_payment", "GET", f"/invoices/payments/{pid}/")
    await c.books(
        "update_invoice_payment",
        "PUT",
        f"/invoices/payments/{pid}/",
        json={"payment_reference": "PAY-1b", "bank_reference": "BANK-1"},
    )
    await c.books(
        "partial_update_invoice_payment",
        "PATCH",
        f"/invoices/payments/{pid}/",
        json={"status": "completed"},
    )
    pending = await c.books(
        "create_invoice_payment",
        "POST",
        "/invoices/payments/",
        json={
            "customer_id": cid,
            "total_amount_cents": 1000,
            "allocations": [{"invoice_id": second["id"], "amount_cents": 1000}],
        },
    )
    await c.books(
        "delete_invoice_payment", "POST", f"/invoices/payments/{pending['payment']['id']}/delete/"
    )
    refund = await c.books(
        "create_refund",
        "POST",
        "/invoices/refunds/",
        json={"invoice_id": iid, "amount_cents": 3000, "method": "CASH", "memo": "Returned"},
    )
    rid = refund["id"]
    await c.books("list_refunds", "GET", "/invoices/refunds/")
    await c.books("get_refund", "GET", f"/invoices/refunds/{rid}/")
    refund_payment = await c.books(
        "create_refund_payment",
        "POST",
        f"/invoices/refunds/{rid}/payments/",
        json={"amount_cents": 1000, "method": "BANK_TRANSFER", "external_id": "rp-1"},
    )
    await c.books("list_refund_payments", "GET", f"/invoices/refunds/{rid}/payments/")
    await c.books(
        "fetch_refund_payment",
        "GET",
        f"/invoices/refunds/{rid}/payments/{refund_payment['id']}/",
    )
    spare = await c.books(
        "create_refund_payment",
        "POST",
        f"/invoices/refunds/{rid}/payments/",
        json={"amount_cents": 500},
    )
    await c.books(
        "delete_refund_payment", "DELETE", f"/invoices/refunds/{rid}/payments/{spare['id']}/"
    )
    doomed = await c.books(
        "create_refund", "POST", "/invoices/refunds/", json={"invoice_id": iid, "amount_cents": 100}
    )
    await c.books("delete_refund", "DELETE", f"/invoices/refunds/{doomed['id']}/")
    payout = await c.books(
        "create_payout",
        "POST",
        "/payouts/",
        json={
            "external_id": "po-1",
            "processor": "stripe",
            "paid_out_amount_cents": 8000,
            "fee_cents": 120,
            "currency": "GBP",
            "status": "paid",
            "completed_at": "2025-06-12T00:00:00Z",
            "payment_ids": [pid],
            "refund_payment_ids": [refund_payment["id"]],
        },
    )
    await c.books("list_payouts", "GET", "/payouts/")
    await c.books("get_payout", "GET", f"/payouts/{payout['id']}/")
    await c.books("delete_payout", "DELETE", f"/payouts/{payout['id']}/")
    credit = await c.books(
        "create_customer_credit",
        "POST",
        "/customer-credits/",
        json={
            "customer_id": cid,
            "line_items": [{"amount": 1500, "memo": "Goodwill", "tags": [{"name": "promo"}]}],
            "allocations": [{"invoice_id": second["id"], "amount": 1000}],
        },
    )
    await c.books("list_customer_credits", "GET", "/customer-credits/")
    await c.books("get_customer_credit", "GET", f"/customer-credits/{credit['id']}/")
    await c.books(
        "update_customer_credit",
        "PUT",
        f"/customer-credits/{credit['id']}/",
        json={"memo": "Updated", "metadata": {"case": 42}},
    )
    await c.books("delete_customer_credit", "DELETE", f"/customer-credits/{credit['id']}/")
    await c.books("void_invoice", "POST", f"/invoices/{second['id']}/void/", json={})

    # -- vendors, bills, payments, credits, refunds ------------------------------------------
    vendor = await c.books(
        "create_vendor",
        "POST",
        "/vendors/",
        json={"external_id": "v-1", "company_name": "Paper Co", "email": "ar@paper.example"},
    )
    vid = vendor["id"]
    await c.books("list_vendors", "GET", "/vendors/")
    await c.books("get_vendor", "GET", f"/vendors/{vid}/")
    await c.books("update_vendor", "PUT", f"/vendors/{vid}/", json={"memo": "Monthly"})
    await c.books("archive_vendor", "POST", f"/vendors/{vid}/archive/", json={})
    await c.books("unarchive_vendor", "POST", f"/vendors/{vid}/unarchive/", json={})
    bill_lines = [{"quantity": 1, "unit_price": 20000, "sales_taxes": [{"amount": 4000}]}]
    bill = await c.books(
        "create_bill",
        "POST",
        "/bills/",
        json={
            "external_id": "bill-1",
            "vendor_id": vid,
            "bill_number": "B-1",
            "bill_date": "2025-06-02",
            "due_at": "2025-07-02T00:00:00Z",
            "line_items": bill_lines,
        },
    )
    bill_id = bill["id"]
    await c.books("list_bills", "GET", "/bills/")
    await c.books("get_bill", "GET", f"/bills/{bill_id}/")
    await c.books("update_bill", "PUT", f"/bills/{bill_id}/", json={"memo": "Checked"})
    bill_payment = await c.books(
        "create_bill_payment",
        "POST",
        "/bills/payments/",
        json={
            "vendor_id": vid,
            "amount_cents": 10000,
            "payment_method": "bank_transfer",
            "payment_date": "2025-06-05",
            "currency": "GBP",
            "allocations": [{"bill_id": bill_id, "amount_cents": 10000}],
        },
        headers={"Idempotency-Key": "conformance-bill-payment"},
    )
    await c.books("list_bill_payments", "GET", "/bills/payments/")
    await c.books("get_bill_payment", "GET", f"/bills/payments/{bill_payment['id']}/")
    await c.books(
        "update_bill_payment",
        "PATCH",
        f"/bills/payments/{bill_payment['id']}/",
        json={"status": "processing", "memo": "sent to bank"},
    )
    cancelled = await c.books(
        "create_bill_payment",
        "POST",
        "/bills/payments/",
        json={
            "vendor_id": vid,
            "amount_cents": 500,
            "payment_method": "cash",
            "payment_date": "2025-06-06",
        },
    )
    await c.books("delete_bill_payment", "POST", f"/bills/payments/{cancelled['id']}/delete/")
    vendor_credit = await c.books(
        "create_vendor_credit",
        "POST",
        "/vendor-credits/",
        json={
            "external_id": "vc-1",
            "vendor_id": vid,
            "line_items": [{"amount": 2000, "memo": "Damaged goods"}],
            "allocations": [{"bill_id": bill_id, "amount": 1000}],
        },
    )
    await c.books("list_vendor_credits", "GET", "/vendor-credits/")
    await c.books("get_vendor_credit", "GET", f"/vendor-credits/{vendor_credit['id']}/")
    await c.books(
        "update_vendor_credit",
        "PUT",
        f"/vendor-credits/{vendor_credit['id']}/",
        json={"tags": [{"name": "q2"}]},
    )
    await c.books("delete_vendor_credit", "DELETE", f"/vendor-credits/{vendor_credit['id']}/")
    vendor_refund = await c.books(
        "create_vendor_refund",
        "POST",
        "/vendor-refunds/",
        json={
            "vendor_id": vid,
            "total_refunded_amount_cents": 3000,
            "currency": "GBP",
            "external_id": "vr-1",
            "refund_type": "overpayment",
            "allocations": [{"allocation_type": "bill", "bill_id": bill_id, "amount_cents": 1000}],
            "payments": [{"refunded_amount_cents": 1000, "payment_method": "bank_transfer"}],
        },
    )
    await c.books("list_vendor_refunds", "GET", "/vendor-refunds/")
    await c.books("get_vendor_refund", "GET", f"/vendor-refunds/{vendor_refund['id']}/")
    await c.books(
        "update_vendor_refund",
        "PATCH",
        f"/vendor-refunds/{vendor_refund['id']}/",
        json={"memo": "Confirmed by vendor", "expected_completion_date": "2025-07-01"},
    )
    triple = await c.books(
        "create_vendor_refund_payment",
        "POST",
        "/vendor-refunds/payments/",
        json={
            "vendor_id": vid,
            "total_amount_cents": 2500,
            "refund_type": "billing_error",
            "allocations": [{"allocation_type": "credit", "amount_cents": 2500}],
        },
        headers={"Idempotency-Key": "conformance-vrp"},
    )
    vrp = triple["payment"]["id"]
    await c.books("list_vendor_refund_payments", "GET", "/vendor-refunds/payments/")
    await c.books("get_vendor_refund_payment", "GET", f"/vendor-refunds/payments/{vrp}/")
    await c.books(
        "update_vendor_refund_payment",
        "PATCH",
        f"/vendor-refunds/payments/{vrp}/",
        json={"memo": "tracking 123"},
    )
    await c.books("delete_vendor_refund_payment", "POST", f"/vendor-refunds/payments/{vrp}/delete/")
    await c.books("delete_vendor_refund", "DELETE", f"/vendor-refunds/{triple['refund']['id']}/")
    await c.books("void_bill", "POST", f"/bills/{bill_id}/void/", json={})

    # -- ledger ------------------------------------------------------------------------------
    await c.books("list_chart_of_accounts", "GET", "/general-ledger/chart-of-accounts/")
    account = await c.books(
        "create_account",
        "POST",
        "/general-ledger/chart-of-accounts/",
        json={
            "code": "1010",
            "name": "Savings",
            "account_type": "asset",
            "account_subtype": "current_assets",
            "is_cash_account": True,
            "external_id": "acc-savings",
        },
    )
    child = await c.books(
        "create_child_account",
        "POST",
        f"/general-ledger/chart-of-accounts/{account['id']}/children/",
        json={"code": "1011", "name": "Savings sub-pot"},
    )
    await c.books(
        "get_chart_of_accounts_hierarchy", "GET", "/general-ledger/chart-of-accounts/hierarchy/"
    )
    await c.books("get_account_detail", "GET", "/general-ledger/chart-of-accounts/1000/")
    await c.books(
        "update_account",
        "PATCH",
        f"/general-ledger/chart-of-accounts/{child['id']}/",
        json={"name": "Rainy day pot"},
    )
    await c.books("archive_account", "DELETE", f"/general-ledger/chart-of-accounts/{child['id']}/")
    await c.books(
        "get_account_entries",
        "GET",
        "/general-ledger/chart-of-accounts/1100/entries/",
        params={"start_date": "2025-06-01", "end_date": "2025-06-30"},
    )
    entries = await c.books("list_journal_entries", "GET", "/general-ledger/journal-entries/")
    await c.books(
        "get_journal_entry_detail",
        "GET",
        f"/general-ledger/journal-entries/{entries['results'][0]['id']}/",
    )

    # -- bank feeds, reports, menu -----------------------------------------------------------
    await c.books("list_bank_accounts", "GET", "/bank-accounts/")
    await c.books("retrieve_bank_account", "GET", f"/bank-accounts/{seeded.bank_account_ids[0]}/")
    await c.books("list_bank_transactions", "GET", "/bank-transactions/")
    period = {"start_date": "2025-01-01", "end_date": "2025-12-31", "detail_level": "detailed"}
    await c.books("get_ap_aging", "GET", "/insights/ap-aging/")
    await c.books("get_ar_aging", "GET", "/insights/ar-aging/")
    await c.books(
        "get_financial_summary",
        "GET",
        "/insights/financial-summary/",
        params={"start_date": "2025-01-01", "end_date": "2025-12-31", "granularity": "quarterly"},
    )
    await c.books(
        "get_balance_sheet",
        "GET",
        "/reports/balance-sheet/",
        params={"as_of_date": "2025-06-30", "detail_level": "detailed"},
    )
    await c.books("get_profit_and_loss", "GET", "/reports/profit-and-loss/", params=period)
    await c.books("get_cash_flow_statement", "GET", "/reports/cash-flow/", params=period)
    await c.books("get_menu_config", "GET", "/menu-config/")
    await c.books(
        "update_menu_config",
        "PUT",
        "/menu-config/",
        json={
            "menu": {"accounts_payable": True},
            "sub_menu_tabs": {"reports.balance_sheet": False},
        },
    )
    await c.books("reset_menu_config", "DELETE", "/menu-config/")

    assert not c.failures, "\n".join(c.failures)
    assert c.called == set(fake.operations), sorted(set(fake.operations) - c.called)
    assert len(fake.operations) == 93
    assert fake.server_errors == []
    assert len(fake.requests) > 90
