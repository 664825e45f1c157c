"""The suggestions' pages: staff, routing rules, the agency portal and public tracking."""
