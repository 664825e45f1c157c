"""Tables of the outbox (filled in by the scheduling work)."""
