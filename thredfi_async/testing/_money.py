"""Money as the API sees it: integer minor units inside, exact decimals where the spec says number.

Every amount is stored as an ``int`` of minor units of the business's base currency. The spec's
``*_cents`` fields and the documented-as-cents integers are written as those ints; fields the spec
types ``number`` (``refunded_amount``, ``total_amount``, ``credit_limit``, bank ``balance``...) are
written in major units as exact Decimals (``40.00``), the way a Django DecimalField renders them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "ALLOWED_CURRENCIES",
    "COUNTRY_CURRENCY",
    "exponent",
    "format_money",
    "major",
    "round_minor",
]

ALLOWED_CURRENCIES = ("EUR", "GBP", "USD", "SEK", "NOK", "DKK", "ISK", "MYR", "SGD")

COUNTRY_CURRENCY = {
    "GB": "GBP",
    "SE": "SEK",
    "NO": "NOK",
    "DK": "DKK",
    "IS": "ISK",
    "MY": "MYR",
    "SG": "SGD",
    "US": "USD",
}

_EXPONENT = {"ISK": 0}
_SYMBOL = {"GBP": "£", "EUR": "€", "USD": "$"}


def exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's major unit (ISO 4217)."""
    return _EXPONENT.get(currency, 2)


def major(minor: int, currency: str) -> Decimal:
    """Minor units as an exact major-unit Decimal with the currency's number of places."""
    exp = exponent(currency)
    return Decimal(minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def round_minor(value: Decimal | int) -> int:
    """Round a computed amount (quantity times price) to whole minor units, half up."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_money(minor: int, currency: str) -> str:
    """Display text such as ``£12,500.50``; never parsed, only shown."""
    amount = major(abs(minor), currency)
    symbol = _SYMBOL.get(currency)
    text = f"{amount:,}"
    body = f"{symbol}{text}" if symbol else f"{text} {currency}"
    return f"-{body}" if minor < 0 else body
