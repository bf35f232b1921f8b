"""Re-screening: a patient failing only a washout becomes eligible once ``--as-of`` passes ``eligible_from``."""

from __future__ import annotations

import datetime as dt

from worklist_helpers import AS_OF, EXAMPLES, Cli

from trialmatch.worklist.model import PairStatus
from trialmatch.worklist.service import Worklist


def test_rescreen_flags_exactly_the_pair_whose_washout_passed(cli: Cli) -> None:
    cli("add", str(EXAMPLES / "ex-02.json"), str(EXAMPLES / "ex-04.json"), "--as-of", AS_OF)
    before = cli("rescreen", "--as-of", "2026-11-26")
    assert before.exit_code == 0
    assert before.stdout.splitlines() == ["10 pairs re-screened, 0 verdicts changed, 0 errors"]
    after = cli("rescreen", "--as-of", "2026-11-27")
    assert after.exit_code == 0
    assert after.stdout.splitlines() == [
        "ex-02 NCT01565200: ineligible → eligible (eligible from 2026-11-27 has passed)",
        "10 pairs re-screened, 1 verdicts changed, 0 errors",
    ]
    changed = cli("list", "--changed")
    assert "1 pairs" in changed.stdout and "NCT01565200" in changed.stdout


def test_rescreen_leaves_closed_pairs_alone(db_url: str, library: object) -> None:
    worklist = Worklist.open(db_url)
    worklist.add_file(EXAMPLES / "ex-02.json", as_of=dt.date.fromisoformat(AS_OF), by="rc1")
    worklist.set_status("ex-02", "NCT01565200", PairStatus.NOT_PURSUED, by="rc1")
    result = worklist.rescreen(dt.date(2026, 11, 28))
    assert result.changes == [] and result.screened == 4
    pair = next(p for p in worklist.pairs() if p.trial_id == "NCT01565200")
    assert pair.screening.verdict == "ineligible" and not pair.is_open
    worklist.close()


def test_an_empty_worklist_rescreens_nothing(cli: Cli) -> None:
    result = cli("rescreen")
    assert result.exit_code == 0 and result.stdout.strip() == "0 pairs re-screened, 0 verdicts changed, 0 errors"
