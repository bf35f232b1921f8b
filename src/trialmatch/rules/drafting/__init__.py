"""Drafting computable rules from criteria text nobody has curated yet (pattern-based, deterministic)."""
