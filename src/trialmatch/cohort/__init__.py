"""Cohort screening: a Parquet facts store, rules compiled to SQL (DuckDB, Spark), feasibility funnels.

The per-patient evaluator (:mod:`trialmatch.engine`) is the reference; the SQL compiled here must give the
same status for every patient and criterion. See ``docs/cohort.md``.
"""
