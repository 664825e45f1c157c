"""The job runner: one process at a time runs the scheduled jobs (``workroom.jobs``)."""
