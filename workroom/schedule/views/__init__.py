"""The schedule's pages: staff (rules, rosters, changes, swaps) and public (the
workroom page, notice, feeds, replies to reminders)."""
