"""The people pages for staff: deputies, groups, agencies, and the roster import."""
