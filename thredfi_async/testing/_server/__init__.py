"""The fake's server layer: the request pipeline and everything it reads from the spec.

``app`` runs a request through faults, routing, credentials, validation and idempotency to its
handler; ``spec`` holds each operation's facts. Nothing here knows accounting: that is
``_books``, and each resource's behaviour is in ``_handlers``.
"""
