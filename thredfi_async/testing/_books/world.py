"""All state of one fake instance: partners, businesses' books, tokens, clock and settings.

Nothing here is module-level, so two fakes in one process never see each other's data.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from typing import Literal

from .._server.auth import TokenAuthority
from .clock import ServerClock
from .ledger import Ledger
from .state import Books, Business, IdGenerator, Partner

__all__ = ["Envelope", "PartnerCredentials", "World"]

Envelope = Literal["page_info", "next"]


@dataclass(frozen=True, slots=True)
class PartnerCredentials:
    """What a partner authenticates with: HTTP Basic ``partner_uuid:api_key``."""

    partner_uuid: str
    api_key: str


class World:
    def __init__(
        self,
        *,
        clock: ServerClock,
        token_ttl: int,
        envelope: Envelope,
        rng: random.Random,
    ) -> None:
        self.clock = clock
        self.rng = rng
        self.new_id = IdGenerator(rng)
        self.envelope: Envelope = envelope
        self.tokens = TokenAuthority(clock, token_ttl, rng)
        self.partners: dict[str, Partner] = {}
        self.books: dict[str, Books] = {}
        self.business_by_external: dict[tuple[str, str], str] = {}

    def shared_objects(self) -> tuple[object, ...]:
        """What a business's books borrow from the world; a copy of the books must not copy it."""
        return (self, self.clock, self.rng, self.new_id, self.tokens)

    def add_partner(self, name: str = "Fake Partner") -> PartnerCredentials:
        partner = Partner(
            uuid=self.new_id(),
            api_key=f"tf_test_{secrets.token_hex(16)}",
            name=name,
        )
        self.partners[partner.uuid] = partner
        return PartnerCredentials(partner.uuid, partner.api_key)

    def open_books(self, business: Business) -> Books:
        """Register a business and provision its chart of accounts (as create-business does)."""
        ledger = Ledger(business.base_currency, self.new_id, self.clock.now)
        ledger.provision_default_chart()
        books = Books(business=business, ledger=ledger)
        self.books[business.id] = books
        self.business_by_external[(business.partner_uuid, business.external_id)] = business.id
        return books
