"""Drafting rules into a user's library on import: never over curated rules or rules the site has edited."""

from __future__ import annotations

from trialmatch.audit import local_actor
from trialmatch.errors import LibraryError
from trialmatch.rules.catalog import find_rule_file, library_rules_dir, load_rules, rule_file_name
from trialmatch.rules.drafting import coverage as draft_coverage
from trialmatch.rules.drafting.draft import draft_trial, with_limits
from trialmatch.rules.rulefile import dump_rule_file
from trialmatch.trials.library import TrialLibrary
from trialmatch.trials.model import Trial


def draft_into_library(lib: TrialLibrary, trial: Trial, *, actor: str | None = None) -> str:
    """Draft rules for a trial nobody curated into the library's rules folder; never over curated or site rules.

    The rule file written goes to the library's audit log."""
    folder = library_rules_dir(lib.root)
    existing = find_rule_file(trial, [folder])
    if existing is not None and existing.parent != folder:
        return f"{trial.trial_id}: curated rules exist ({existing.name}), not drafted"
    if existing is not None and not all(c.drafted for c in load_rules(existing).criteria):
        return f"{trial.trial_id}: the site's own rules in rules/{existing.name} kept, not drafted"
    rules = draft_trial(trial)
    target = folder / rule_file_name(trial.trial_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(dump_rule_file(rules), encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        raise LibraryError(f"cannot write drafted rules for {trial.trial_id} to the library: {exc.strerror}") from exc
    lib.audit.record_change("draft-rules", trial.trial_id, f"wrote {target.name}", actor=actor or local_actor())
    counts = {level: sum(c.computability == level for c in rules.criteria) for level in draft_coverage.LEVELS}
    filled = with_limits(trial)
    limits = [
        f"{name} {getattr(filled, name):g}"
        if isinstance(getattr(filled, name), float)
        else f"{name} {getattr(filled, name)}"
        for name in ("sex", "minimum_age_years", "maximum_age_years")
        if getattr(trial, name) is None and getattr(filled, name) is not None
    ]
    if limits:
        lib.update(filled)
    described = ", ".join(f"{n} {level}" for level, n in counts.items())
    found = f"; limits read from criteria and stored: {', '.join(limits)}" if limits else ""
    return f"{trial.trial_id}: drafted {len(rules.criteria)} criteria ({described}) into rules/{target.name}{found}"
