"""A caller's code against the typed surface: results, fields, enums, ids and the fake.

Never run; tests/test_typing.py checks it with mypy (strict) and pyright (strict). Each
expected error carries one ignore per checker, so an error that stops being reported fails
that test just as a new error does.
"""

import datetime
from decimal import Decimal
from typing import assert_type
from uuid import UUID

from thredfi_async import AsyncThredfi, BusinessView, Unset, models
from thredfi_async.models import APAgingReportGroupBy, Invoice
from thredfi_async.testing import FakeThredfi, RecordingClock, ServerClock


async def results_are_their_models(books: BusinessView, invoice_id: str) -> None:
    invoice = await books.invoices.get(invoice_id)
    assert_type(invoice, Invoice)
    async for listed in books.invoices.list():
        assert_type(listed, Invoice)
    page = await books.invoices.list(page_size=50)
    assert_type(page.results, list[Invoice])
    config = await books.menu_config.get()
    assert_type(config, models.MenuConfig)


async def ids_flow_from_results_into_arguments(books: BusinessView) -> None:
    customer = await books.customers.create(body={"company_name": "Globex"})
    customer_id = customer.id
    # Whatever an id field holds (a UUID, or the text when it is not one) a filter takes.
    await books.invoices.list(customer_id=customer_id)
    await books.customers.get(customer_id)
    await books.invoices.list(customer_id=UUID(int=1))


async def the_business_is_the_subject_of_businesses(thredfi: AsyncThredfi) -> None:
    business = await thredfi.businesses.create(
        body={
            "external_id": "m-1",
            "legal_name": "Acme",
            "entity_type": "limited",
            "email": "a@acme.test",
        }
    )
    assert_type(await thredfi.businesses.get(business.id), models.Business)


def required_fields_need_no_narrowing(
    vendor: models.APAgingVendor, report: models.APAgingReport
) -> None:
    assert_type(vendor.vendor_id, UUID | str)
    assert_type(vendor.total_outstanding_cents, int)
    assert_type(report.as_of_date, datetime.date | str)
    print(vendor.total_outstanding_cents + 1)


def optional_fields_stay_optional(summary: models.BankAccountConnectionSummary) -> None:
    assert_type(summary.balance, Decimal | None | Unset)
    takes_money(summary.balance)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    if isinstance(summary.balance, Decimal):
        takes_money(summary.balance)


def takes_money(amount: Decimal) -> None:
    print(amount)


def enums_are_enums(report: models.APAgingReport) -> None:
    assert_type(report.group_by, APAgingReportGroupBy)
    assert_type(APAgingReportGroupBy("by_region"), APAgingReportGroupBy)
    assert_type(report.group_by.is_known, bool)


def statuses_are_enums(invoice: Invoice, bill: models.Bill, vendor: models.Vendor) -> None:
    assert_type(invoice.status, models.InvoiceStatus)
    assert_type(bill.status, models.BillStatus)
    assert_type(vendor.status, models.VendorStatus)
    if invoice.status is models.InvoiceStatus.PAID:
        print("paid")
    assert_type(models.InvoiceStatus("WRITTEN_OFF"), models.InvoiceStatus)


def totals_are_integers(invoice: Invoice, bill: models.Bill) -> None:
    assert_type(invoice.total_amount_cents, int)
    assert_type(invoice.outstanding_amount_cents, int)
    assert_type(bill.paid_amount_cents, int)
    print(invoice.total_amount_cents - invoice.paid_amount_cents)


def money_is_decimal(connection: models.BankAccountConnection) -> None:
    assert_type(connection.balance, Decimal | None)


def the_fake_hands_out_a_typed_client() -> None:
    thredfi = FakeThredfi().client()
    assert_type(thredfi, AsyncThredfi)
    print(thredfi.invoicez)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownArgumentType]


async def a_misspelt_method_is_an_error(books: BusinessView) -> None:
    await books.invoices.gett("x")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]


def the_client_takes_the_recording_clock_not_the_servers() -> None:
    AsyncThredfi(partner_uuid="p", api_key="k", clock=RecordingClock())
    AsyncThredfi(partner_uuid="p", api_key="k", clock=ServerClock())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
