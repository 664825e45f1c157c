"""Tables of the working-day calendar (filled in by the scheduling work)."""
