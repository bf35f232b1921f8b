"""Terminology: what the codes in records and the concept names in rules mean.

The bottom layer of the package, below trial rules and patient readers alike: code systems, the concept
library (concepts bound to codes and value sets, with their broader/narrower hierarchy) and UCUM unit
handling. Nothing here imports from ``rules``, ``patients``, ``engine`` or ``cohort``.
"""
