"""Draw the labelled set's criteria: a seeded random sample of criteria from the ClinicalTrials.gov corpus.

Usage: python scripts/sample_gold.py [--corpus DIR] [--size N] [--seed S] > sample.yaml

Every criterion and sub-item of every trial is a candidate except parents whose sub-items carry the rules (they
ask nothing of their own). The same corpus, size and seed always give the same sample, in corpus order, so the
labelled file (tests/rules/drafting/gold.yaml) can be re-drawn and checked against its header. Labels are
written by hand afterwards, as docs/labelling.md describes; this script never proposes one.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import yaml

from trialmatch.trials.model import Trial
from trialmatch.trials.sources import read_trials

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "ctgov-corpus"
DEFAULT_SIZE = 420
DEFAULT_SEED = 14


def _study(trial: Trial) -> dict[str, object]:
    """What the record says beside the criteria, which drafting reads (conditions, title, age limits)."""
    return {
        "conditions": [*trial.conditions, trial.title],
        "minimum_age": trial.minimum_age_years,
        "maximum_age": trial.maximum_age_years,
    }


def candidates(corpus: Path) -> list[dict[str, object]]:
    """Every criterion without sub-items, as ``{id, type, text, study}`` with ``id`` = ``TRIAL/CRITERION``."""
    out: list[dict[str, object]] = []
    for path in sorted(corpus.glob("NCT*.json")):
        for trial in read_trials(path):
            for criterion in trial.all_criteria():
                if not criterion.children:
                    item = {"id": f"{trial.trial_id}/{criterion.id}", "type": criterion.type.value}
                    out.append(item | {"text": criterion.text, "study": _study(trial)})
    return out


def sample(corpus: Path, size: int, seed: int) -> list[dict[str, object]]:
    """``size`` candidates drawn without replacement by ``random.Random(seed)``, in corpus order."""
    pool = candidates(corpus)
    chosen = sorted(random.Random(seed).sample(range(len(pool)), size))
    return [pool[i] for i in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    items = sample(args.corpus, args.size, args.seed)
    header = {"corpus": "ctgov-corpus", "size": args.size, "seed": args.seed, "script": "scripts/sample_gold.py"}
    yaml.safe_dump({"sample": header, "items": items}, sys.stdout, sort_keys=False, allow_unicode=True, width=120)


if __name__ == "__main__":
    main()
