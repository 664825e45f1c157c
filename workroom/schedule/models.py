"""Tables of reception scheduling (filled in by the scheduling work)."""
