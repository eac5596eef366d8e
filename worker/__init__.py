"""rqtop's job platform: the RQ worker, schedules, janitor and the records the dashboard reads."""

__version__ = "0.1.0"
