"""The `thredfi_async` logger: off unless THREDFI_LOG=debug|info, never a secret in a record.

Redaction is a logging.Filter on the logger itself (as openai-python does), so it covers every
record, including ones a future change formats carelessly.
"""

from __future__ import annotations

import logging
import os

from ._redact import redact

__all__ = ["logger", "setup_logging"]

logger = logging.getLogger("thredfi_async")


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging() -> None:
    """Install the redaction filter; with THREDFI_LOG set, also a stderr handler at that level."""
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    level = os.environ.get("THREDFI_LOG", "").strip().lower()
    if level not in {"debug", "info"}:
        return
    # The level is set even when the application already attached its own handler.
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
