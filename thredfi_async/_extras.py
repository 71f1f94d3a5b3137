"""The error for a module whose optional extra is not installed, naming the extra to install."""

from __future__ import annotations

from ._exceptions import ThredfiError

__all__ = ["MissingExtraError"]


class MissingExtraError(ThredfiError, ImportError):
    """An optional module was imported without its extra. An ImportError too, so code that
    probes for optional support (`try: import ... except ImportError`) keeps working."""

    def __init__(self, module: str, extra: str, missing: str) -> None:
        super().__init__(
            f"{module} needs the {extra!r} extra ({missing} is not installed): "
            f"pip install 'thredfi-async[{extra}]'"
        )
        self.module = module
        self.extra = extra
        self.missing = missing
