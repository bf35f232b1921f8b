"""The user's trial library: storing imports, merging with bundled trials, lookup by id or alias."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialmatch.errors import CuratedTrialError, LibraryError, RecordError
from trialmatch.trials.library import TrialLibrary, bundled_trials, default_library_dir
from trialmatch.trials.model import Trial

FIXTURES = Path(__file__).parent / "fixtures"


def test_import_stores_record_and_source_copy(tmp_path: Path) -> None:
    library = TrialLibrary(tmp_path, include_bundled=False)
    [trial] = library.import_file(FIXTURES / "ctgov_escapes_nested.json")
    assert (tmp_path / "trials" / "NCT90000001.json").is_file()
    stored = library.get("NCT90000001")
    assert stored.criteria == trial.criteria
    assert stored.source.file == "ctgov_escapes_nested.json"
    copy = tmp_path / "sources" / "NCT90000001" / "ctgov_escapes_nested.json"
    assert copy.read_bytes() == (FIXTURES / "ctgov_escapes_nested.json").read_bytes()


def test_reimport_replaces(tmp_path: Path) -> None:
    library = TrialLibrary(tmp_path, include_bundled=False)
    library.import_file(FIXTURES / "ctgov_list.json")
    library.import_file(FIXTURES / "ctgov_studies.json")
    assert sorted(t.trial_id for t in library.load_all()) == ["NCT90000002", "NCT90000003"]


def test_bundled_trials_come_first_and_can_be_left_out(tmp_path: Path) -> None:
    TrialLibrary(tmp_path).import_file(FIXTURES / "ctgov_studies.json")
    with_bundled = [t.trial_id for t in TrialLibrary(tmp_path).load_all()]
    assert with_bundled == [t.trial_id for t in bundled_trials()] + ["NCT90000002"]
    assert [t.trial_id for t in TrialLibrary(tmp_path, include_bundled=False).load_all()] == ["NCT90000002"]


def test_import_replaces_a_bundled_trial_only_with_the_audited_override(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text("IMPACT-MBC, an updated copy\n\nNCT ID\nNCT01957332\n\nInclusion Criteria:\n- Adults.\n")
    library = TrialLibrary(tmp_path / "lib")
    with pytest.raises(CuratedTrialError, match=r"page\.txt: NCT01957332 is the bundled, curated trial"):
        library.import_file(page)
    assert library.stored() == []
    library.import_file(page, replace_bundled=True, actor="token:test")
    matches = [t for t in library.load_all() if t.trial_id == "NCT01957332"]
    assert len(matches) == 1 and matches[0].counts() == (1, 0)
    [(_, actor, action, trial_id, detail)] = library.audit.changes()
    assert (actor, action, trial_id, detail) == ("token:test", "replace-bundled", "NCT01957332", "from page.txt")


def test_an_alias_of_a_bundled_trial_is_curated_too(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text("A copy\n\nOther Study ID Numbers\n2000023405\n\nInclusion Criteria:\n- Adults.\n")
    with pytest.raises(CuratedTrialError, match="curated trial NCT03530696"):
        TrialLibrary(tmp_path / "lib").import_file(page)


def test_imports_are_audited_with_the_local_user(tmp_path: Path) -> None:
    library = TrialLibrary(tmp_path, include_bundled=False)
    library.import_file(FIXTURES / "ctgov_list.json")
    changes = library.audit.changes()
    assert [(c[2], c[3], c[4]) for c in changes] == [
        ("import", "NCT90000002", "from ctgov_list.json"),
        ("import", "NCT90000003", "from ctgov_list.json"),
    ]
    assert changes[0][1].startswith(("user:", "uid:"))


@pytest.mark.parametrize("key", ["NCT03530696", "nct03530696", "2000023405", "2011-005437-39"])
def test_get_by_id_or_alias_case_insensitive(key: str, tmp_path: Path) -> None:
    assert isinstance(TrialLibrary(tmp_path).get(key), Trial)


def test_get_unknown_names_the_library(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="no trial with id or alias 'NCT00000000'"):
        TrialLibrary(tmp_path).get("NCT00000000")


def test_failed_import_stores_nothing(tmp_path: Path) -> None:
    library = TrialLibrary(tmp_path, include_bundled=False)
    with pytest.raises(RecordError):
        library.import_file(FIXTURES / "malformed.json")
    assert library.load_all() == []


def test_corrupt_library_record_is_reported(tmp_path: Path) -> None:
    (tmp_path / "trials").mkdir()
    (tmp_path / "trials" / "bad.json").write_text("{")
    with pytest.raises(LibraryError, match=r"bad\.json: library record unreadable"):
        TrialLibrary(tmp_path).load_all()


def test_default_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALMATCH_HOME", str(tmp_path))
    assert default_library_dir() == tmp_path
    assert TrialLibrary().root == tmp_path


def test_bundled_trials_are_read_once() -> None:
    first, second = bundled_trials(), bundled_trials()
    assert first == second and all(a is b for a, b in zip(first, second, strict=True))
