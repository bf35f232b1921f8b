"""Engine: three-valued logic, per-patient evaluation, verdicts and ranking."""
