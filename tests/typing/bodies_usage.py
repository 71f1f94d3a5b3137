"""A caller's code against the typed bodies: what type-checks, and what is an error.

Never run; tests/test_typing_bodies.py checks it with `mypy --strict --warn-unused-ignores` and
with pyright (pyrightconfig.json here: strict, `# type: ignore` left to mypy, unnecessary
`# pyright: ignore` an error). Every expected error carries one ignore for each checker, so an
error that stops being reported fails that test just as a new error does.
"""

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import assert_type
from uuid import UUID

from thredfi_async import AsyncThredfi, BusinessView, models
from thredfi_async.bodies import (
    CreateBusinessRequestDict,
    InvoiceCreateRequestDict,
    InvoiceLineItemRequestDict,
)

CUSTOMER = UUID("5b0c9d8e-7f6a-4b3c-9d2e-1f0a9b8c7d6e")


async def a_dict_body_with_the_api_keys_is_accepted(books: BusinessView) -> None:
    invoice = await books.invoices.create(
        body={
            "customer_id": CUSTOMER,
            "sent_at": datetime.datetime(2025, 6, 1, 9, tzinfo=datetime.UTC),
            "due_at": "2025-07-01T09:00:00Z",
            "line_items": [
                {"description": "Widgets", "quantity": Decimal("1.5"), "unit_price": 1000},
                {"quantity": 2, "unit_price": 250, "sales_taxes": [{"amount": 100}]},
                models.InvoiceLineItemRequest(quantity=1, unit_price=99),
            ],
        }
    )
    assert_type(invoice, models.Invoice)


async def a_dict_built_ahead_is_accepted(thredfi: AsyncThredfi, business_id: str) -> None:
    line: InvoiceLineItemRequestDict = {"quantity": 3, "unit_price": 1_250}
    body: InvoiceCreateRequestDict = {"customer_external_id": "c-1", "line_items": [line]}
    assert_type(line["quantity"], Decimal | int)
    assert_type(
        body["line_items"], Sequence[models.InvoiceLineItemRequest | InvoiceLineItemRequestDict]
    )
    created = await thredfi.invoices.create(business_id=business_id, body=body)
    assert_type(created, models.Invoice)


async def a_model_is_accepted(books: BusinessView) -> None:
    body = models.InvoiceCreateRequest(
        customer_id=CUSTOMER, line_items=[models.InvoiceLineItemRequest(unit_price=1000)]
    )
    assert_type(await books.invoices.create(body=body), models.Invoice)


async def every_required_key_given_is_accepted(thredfi: AsyncThredfi) -> None:
    business: CreateBusinessRequestDict = {
        "external_id": "m-1",
        "legal_name": "Acme Ltd",
        "entity_type": "limited",
        "email": "books@acme.example",
        "accounting_method": "cash",
    }
    assert_type(await thredfi.businesses.create(body=business), models.Business)


# Expected errors. At a call site mypy reports a dict that fits no member of the body's union
# (model | dict) as arg-type; a dict annotated with its TypedDict gets the precise code.


async def a_misspelt_key_is_an_error(books: BusinessView) -> None:
    await books.invoices.create(body={"custmer_id": CUSTOMER})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    body: InvoiceCreateRequestDict = {"custmer_id": CUSTOMER}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]
    await books.invoices.create(body=body)


async def a_float_amount_is_an_error(books: BusinessView) -> None:
    await books.invoices.create(body={"line_items": [{"unit_price": 19.99}]})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    line: InvoiceLineItemRequestDict = {"quantity": 1, "unit_price": 19.99}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
    await books.invoices.create(body={"line_items": [line]})


async def a_float_in_a_json_number_is_an_error(books: BusinessView) -> None:
    await books.bills.create(body={"line_items": [{"quantity": 1.5}]})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    line: InvoiceLineItemRequestDict = {"quantity": 1.5, "unit_price": 1000}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
    await books.invoices.create(body={"line_items": [line]})


async def a_missing_required_key_is_an_error(thredfi: AsyncThredfi) -> None:
    await thredfi.businesses.create(body={"external_id": "m-1"})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    body: CreateBusinessRequestDict = {"external_id": "m-1", "legal_name": "Acme Ltd"}  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
    await thredfi.businesses.create(body=body)


async def an_unknown_enum_value_is_an_error(thredfi: AsyncThredfi) -> None:
    body: CreateBusinessRequestDict = {
        "external_id": "m-1",
        "legal_name": "Acme Ltd",
        "entity_type": "limited",
        "email": "books@acme.example",
        "accounting_method": "barter",  # type: ignore[typeddict-item]  # pyright: ignore[reportAssignmentType]
    }
    await thredfi.businesses.create(body=body)


async def a_dict_of_no_declared_shape_is_an_error(
    books: BusinessView, data: dict[str, object]
) -> None:
    await books.invoices.create(body=data)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


async def a_document_in_a_json_body_carries_its_file_as_text(books: BusinessView) -> None:
    # A JSON body holds no file object; the reference's examples send the file as a string.
    await books.customers.create(
        body={"company_name": "Globex", "document": {"file": "JVBERi0xLjQK", "document_type": "x"}}
    )
    await books.invoices.create(body={"document": {"file": "JVBERi0xLjQK"}})
    await books.customers.create(
        body={"company_name": "Globex", "document": {"file": b"%PDF"}}  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    )
