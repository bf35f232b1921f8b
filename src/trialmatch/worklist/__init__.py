"""The coordinator's work-list: patients × trials that persist, with statuses, site answers and re-screening.

One database (SQLite in the user's data directory by default, PostgreSQL through a URL) holds the patient
records as received, every screening of every (patient, trial) pair, and the history of statuses and site
answers. Nothing is updated in place: each change is a new row, so the history is the audit trail.
"""
