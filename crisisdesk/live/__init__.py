"""Live pages: changes are written to an outbox (``LiveEvent``) in the transaction that makes them,
and each open page reads its topics from it over server-sent events."""
