"""The fake's books: each business's state and the accounting rules that move it.

Written once for both sides of the ledger (``sides``: receivables and payables), so an invoice
and a bill, or a customer and a vendor credit, follow the same rules where the API's do.
"""
