"""The TypedDicts `body=` takes besides the models: `<Model>Dict` for every request body.

```python
from thredfi_async.bodies import InvoiceCreateRequestDict

body: InvoiceCreateRequestDict = {"customer_id": customer.id, "line_items": [...]}
invoice = await books.invoices.create(body=body)
```
A dict is sent as given; its type lets a type checker find a misspelt key, a missing required
key or a float amount before the API does. Generated from openapi.yaml with the models.
"""

from ._generated.bodies import *  # noqa: F403
from ._generated.bodies import __all__ as __all__
