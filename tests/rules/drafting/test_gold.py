"""The labelled set: it is the seeded sample the script draws, every label reads, and `trials coverage --gold`
reports precision and coverage; the scoring itself is checked on small hand-made sets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialmatch.commands.trials import app
from trialmatch.rules.drafting.gold import GoldItem, GoldSet, load_gold, score
from trialmatch.trials.model import CriterionType

GOLD = Path(__file__).with_name("gold.yaml")
SCRIPT = Path(__file__).parents[3] / "scripts" / "sample_gold.py"


def test_the_gold_file_reads_and_has_at_least_400_items() -> None:
    gold = load_gold(GOLD)
    assert sum(item.measured for item in gold.items) >= 400
    assert len({item.id for item in gold.items}) == len(gold.items)


def test_every_labelled_item_is_a_criterion_of_its_trial(shared_dir: Path) -> None:
    """The set was drawn by the script (its header says with which splitting); every item still measured is a
    criterion of its trial with this text and type, and the script draws the same number from a seeded sample."""
    spec = importlib.util.spec_from_file_location("sample_gold", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    gold = load_gold(GOLD)
    corpus = shared_dir / "fixtures" / "ctgov-corpus"
    # by trial, text and type: a heading no longer split off renumbers the criteria after it
    criteria = {(d["id"].split("/")[0], d["text"], d["type"]) for d in module.candidates(corpus)}
    kept = [item for item in gold.items if item.measured]
    assert len(kept) >= 400
    assert [i.id for i in kept if (i.id.split("/")[0], i.text, i.type.value) not in criteria] == []
    assert len(module.sample(corpus, 30, 1)) == 30


def _set(*items: tuple[str, CriterionType, str, str]) -> GoldSet:
    return GoldSet(
        sample={"size": len(items), "seed": 0},
        labelled_by="tests",
        items=tuple(GoldItem(id=i, type=t, text=text, label=label) for i, t, text, label in items),
    )


INC, EXC = CriterionType.INCLUSION, CriterionType.EXCLUSION


def test_a_draft_agreeing_with_its_label_is_precise() -> None:
    result = score(_set(("NCT1/inc-1", INC, "Age ≥ 18 years", "age >= 18")), patients=30)
    assert result.drafted == {"computable": 1}
    assert result.wrong == [] and result.precision == 100.0
    assert result.agreeing_computable == 1


def test_a_draft_deciding_what_the_label_leaves_unknown_is_wrong() -> None:
    result = score(_set(("NCT1/inc-1", INC, "Age ≥ 18 years", 'unknown("age by another rule")')), patients=30)
    assert [w[0] for w in result.wrong] == ["NCT1/inc-1"]
    assert result.precision == 0.0


def test_a_draft_that_abstains_is_never_wrong() -> None:
    text = "Must have a known epidermal growth factor receptor (EGFR) activating mutation status."
    result = score(_set(("NCT1/inc-1", INC, text, "age >= 18")), patients=30)
    assert result.decided == 0 and result.wrong == []


def test_coverage_gold_command_reports_precision() -> None:
    result = CliRunner().invoke(app, ["coverage", "--gold", str(GOLD)])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    measured = sum(item.measured for item in load_gold(GOLD).items)
    assert last.startswith(f"{measured} labelled criteria: ") and "precision" in last


def test_a_label_that_does_not_read_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "gold.yaml"
    bad.write_text(
        "sample: {size: 1, seed: 0}\nlabelled_by: tests\nitems:\n"
        "- {id: NCT1/inc-1, type: inclusion, text: x, label: 'latest(lab.nope) > 1'}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["coverage", "--gold", str(bad)])
    assert result.exit_code == 2
    with pytest.raises(Exception, match="label does not read"):
        load_gold(bad)


def test_precision_on_the_labelled_set_is_at_least_95_percent() -> None:
    result = score(load_gold(GOLD))
    assert result.decided >= 40  # the measure rests on enough drafts to mean something
    assert result.precision >= 95.0, result.wrong
