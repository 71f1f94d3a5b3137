"""Every model and enum of the API: `from thredfi_async.models import Invoice, InvoiceStatus`.

The classes are generated from openapi.yaml into `thredfi_async._generated.models`; this is
their public home. Each loads on first use, as there, so importing this module costs nothing.
"""

from typing import TYPE_CHECKING

from ._generated import models as _generated

if TYPE_CHECKING:
    from ._generated.models import *  # noqa: F403
else:  # at runtime only, so that a misspelt name stays a type error
    __all__ = _generated.__all__

    def __getattr__(name: str) -> object:
        return getattr(_generated, name)

    def __dir__() -> list[str]:
        return sorted(__all__)
