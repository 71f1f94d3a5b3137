"""Receivables and payables: one set of rules, two sides.

An invoice and a bill are both a :class:`~.state.TradeDocument` owed by (or to) a party; payments
and credit notes are applied to them by the same rules (``documents``, ``allocations``). What
differs is named here once: which documents and party, which control account the ledger moves,
and on which side the party's spare balance sits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from .ledger import CODES
from .state import Bill, Books, Invoice, TradeDocument

__all__ = ["PAYABLES", "RECEIVABLES", "Side"]

D = TypeVar("D", bound=TradeDocument)


@dataclass(frozen=True, slots=True)
class Side(Generic[D]):
    document: str  # "invoice" or "bill": the noun in messages, ``<document>_id`` in requests
    party: str  # "customer" or "vendor"
    control_account: str  # Accounts Receivable or Accounts Payable
    spare_account: str  # where money not yet applied waits (customer credit, vendor prepayment)
    sign: int  # +1 where the business is owed (receivables), -1 where it owes
    documents: Callable[[Books], Mapping[str, D]]
    party_field: str  # the document's attribute holding its party's id

    def party_of(self, document: TradeDocument) -> str:
        party_id: str = getattr(document, self.party_field)
        return party_id

    @property
    def a_document(self) -> str:
        return f"an {self.document}" if self.document[0] in "aeiou" else f"a {self.document}"


RECEIVABLES: Side[Invoice] = Side(
    document="invoice",
    party="customer",
    control_account=CODES.RECEIVABLES,
    spare_account=CODES.CUSTOMER_CREDITS,
    sign=1,
    documents=lambda books: books.invoices,
    party_field="customer_id",
)
PAYABLES: Side[Bill] = Side(
    document="bill",
    party="vendor",
    control_account=CODES.PAYABLES,
    spare_account=CODES.VENDOR_PREPAYMENTS,
    sign=-1,
    documents=lambda books: books.bills,
    party_field="vendor_id",
)
