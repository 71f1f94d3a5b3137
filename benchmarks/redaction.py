"""Redaction cost per log record with one live client and with 50,000.

Every log record and every error message is redacted against the exact secrets the process
holds (each client's key, its Basic credential with and without padding, minted tokens). A
lookup by length keeps that cost flat however many clients exist; the figure is the ratio of
the two costs, measured side by side. The replace-per-secret scan this replaced is timed too,
as context: that is what a process with many clients used to pay per record.
"""

from __future__ import annotations

import base64

from thredfi_async._redact import SecretRegistry

from ._harness import Figure, Target, interleave, median
from ._sizes import Sizes

__all__ = ["run"]

# A line that names a key prefix every client shares, so no shortcut on prefixes can hide.
LOG_LINE = (
    "GET /v1/platform/businesses/6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b/customers/"
    "0f6c8a1e-2b3d-4c5e-9f7a-8b9c0d1e2f3a/ -> 503 in 12 ms (attempt 1/3) "
    "request_id=req_7d1f0c9a2b3e4d5f key=sk_live_00000000_not_a_real_key"
)
ERROR_TEXT = (
    "400 validation_error: The request was invalid (line_items: quantity must be positive; "
    "customer_id: unknown customer 0f6c8a1e-2b3d-4c5e-9f7a-8b9c0d1e2f3a) "
    "[request_id=req_7d1f0c9a2b3e4d5f]"
)


def _client_secrets(n: int) -> list[str]:
    """What one client holds: its API key and the Basic credential, padded and not."""
    key = f"sk_live_{n:08d}_c0ffee51deadbeef"
    basic = base64.b64encode(f"0b5f6c1e-9a43-4a8e-8a2d-{n:012d}:{key}".encode()).decode()
    return [key, basic, basic.rstrip("=")]


def _registry(clients: int) -> tuple[SecretRegistry, list[str]]:
    registry = SecretRegistry()
    held: list[str] = []
    for n in range(clients):
        for secret in _client_secrets(n):
            registry.hold(secret)
            held.append(secret)
    return registry, held


def _replace_each(secrets: list[str], text: str) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


def run(sizes: Sizes) -> list[Figure]:
    one, _ = _registry(1)
    many, held = _registry(sizes.redaction_clients)

    def redact_with(registry: SecretRegistry) -> object:
        registry.redact(LOG_LINE)
        return registry.redact(ERROR_TEXT)

    samples = interleave(
        {
            "one": lambda: redact_with(one),
            "many": lambda: redact_with(many),
            "replace_each": lambda: (
                _replace_each(held, LOG_LINE),
                _replace_each(held, ERROR_TEXT),
            ),
        },
        rounds=sizes.redaction_rounds,
        number=sizes.redaction_number,
    )
    us = {name: median(values) * 1e6 / 2 for name, values in samples.items()}  # per record
    return [
        Figure(
            name="redaction.many_clients_vs_one",
            value=us["many"] / us["one"],
            target=Target("<=", 1.5),
            description=(
                f"redaction cost per record with {sizes.redaction_clients:,} live clients' "
                "secrets / with one client's"
            ),
            note=(
                f"{us['one']:.1f} us per record with 1 client, {us['many']:.1f} us with "
                f"{sizes.redaction_clients:,}; a replace per secret took "
                f"{us['replace_each']:.0f} us"
            ),
            context={k: round(v, 2) for k, v in us.items()},
        )
    ]
