"""Money as the API sees it: integer minor units inside, exact decimals where the spec says number.

Every amount is stored as an ``int`` of minor units of the business's base currency. The spec's
``*_cents`` fields and the documented-as-cents integers are written as those ints; fields the spec
types ``number`` (``refunded_amount``, ``total_amount``, ``credit_limit``, bank ``balance``...) are
written in major units as exact Decimals (``40.00``), the way a Django DecimalField renders them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

__all__ = [
    "ALLOWED_CURRENCIES",
    "MAX_AMOUNT",
    "COUNTRY_CURRENCY",
    "exponent",
    "format_money",
    "major",
    "representable",
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

MAX_AMOUNT = 2**63 - 1
_EXPONENT = {"ISK": 0}
# Wide enough for any amount the validator lets in and any sum of them: the default context's 28
# digits made quantize() raise on a 10**30 credit limit, so every later render of it failed.
_WIDE = Context(prec=120)
_SYMBOL = {"GBP": "£", "EUR": "€", "USD": "$"}


def exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's major unit (ISO 4217)."""
    return _EXPONENT.get(currency, 2)


def major(minor: int, currency: str) -> Decimal:
    """Minor units as an exact major-unit Decimal with the currency's number of places."""
    exp = exponent(currency)
    return Decimal(minor).scaleb(-exp, _WIDE).quantize(Decimal(1).scaleb(-exp), context=_WIDE)


def round_minor(value: Decimal | int) -> int:
    """Round a computed amount (quantity times price) to whole minor units, half up."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP, context=_WIDE))


def representable(amount: int, field: str) -> int:
    """``amount`` (minor units computed from a request), or a 400 naming ``field`` when it
    leaves the 64-bit range the API stores amounts in."""
    if abs(amount) > MAX_AMOUNT:
        from .._server.errors import field_error

        raise field_error(
            field, f"Ensure the resulting amount is at most {MAX_AMOUNT} in magnitude."
        )
    return amount


def format_money(minor: int, currency: str) -> str:
    """Display text such as ``£12,500.50``; never parsed, only shown."""
    amount = major(abs(minor), currency)
    symbol = _SYMBOL.get(currency)
    text = f"{amount:,}"
    body = f"{symbol}{text}" if symbol else f"{text} {currency}"
    return f"-{body}" if minor < 0 else body
