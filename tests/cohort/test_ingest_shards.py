"""One input shared among workers: every format splits into disjoint shards, and the store is the same whatever
the number of workers, with every rejected record counted once."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from trialmatch.cohort import ingest as ingest_module
from trialmatch.cohort.ingest import Job, PartResult, _Tally, ingest, ingest_one, store_calls
from trialmatch.cohort.store import Manifest
from trialmatch.commands.cohort import app
from trialmatch.patients.model import InputProblem
from trialmatch.patients.sources import Shard, read_patients
from trialmatch.patients.sources.ndjson import index_ndjson, read_indexed, remove_index
from trialmatch.terminology.concepts import default_library

AS_OF = dt.date(2025, 1, 15)
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "src/trialmatch/data/patients/examples").glob("ex-*.json"))


def _patient(pid: str) -> dict[str, object]:
    return {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1970-03-02"}


def _observation(oid: str, pid: str | None) -> dict[str, object]:
    subject = {"subject": {"reference": f"Patient/{pid}"}} if pid else {}
    return {"resourceType": "Observation", "id": oid, "status": "final", "code": {"text": "weight"}, **subject}


def _inputs(folder: Path) -> list[Path]:
    """An NDJSON file (7 patients, a broken line, a non-resource, an orphan), a FHIR bundle (5 patients, an orphan,
    an entry without a resource) and a CSV file (5 patients, an unknown column)."""
    lines = [json.dumps(_patient(f"n{k}")) for k in range(7)]
    lines[2:2] = ["{not json", "[]", json.dumps(_observation("orphan-n", None)), json.dumps(_observation("o1", "n4"))]
    ndjson = folder / "cohort.ndjson"
    ndjson.write_text("\n".join(lines) + "\n", encoding="utf-8")
    entries: list[dict[str, object]] = [{"resource": _patient(f"b{k}")} for k in range(5)]
    entries += [{"resource": _observation("orphan-b", None)}, {"fullUrl": "urn:uuid:x"}]
    bundle = folder / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    table = folder / "cohort.csv"
    rows = "".join(f"c{k},female,1960-01-0{k + 1},x\n" for k in range(5))
    table.write_text("patient_id,sex,birth_date,shoe_size\n" + rows, encoding="utf-8")
    return [ndjson, bundle, table]


def _rejects(store: Path) -> Counter[tuple[str, str]]:
    with (store / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        return Counter((row["record"], row["reason"]) for row in csv.DictReader(handle))


def test_shards_of_every_format_partition_the_patients_in_order(tmp_path: Path) -> None:
    for path in _inputs(tmp_path):
        whole = [rec.patient_id for rec in read_patients(path)]
        for count in (1, 2, 3, 8):
            for index in range(count):
                shard = Shard(index, count)
                ids = [rec.patient_id for rec in read_patients(path, shard=shard)]
                assert ids == [whole[shard.ordinal(k)] for k in range(len(ids))]
                assert len(ids) == len(range(index, len(whole), count))


def test_a_kept_ndjson_index_serves_every_shard_and_its_problems_are_found_once(tmp_path: Path) -> None:
    ndjson = _inputs(tmp_path)[0]
    problems: list[InputProblem] = []
    kept = index_ndjson([ndjson], problems)
    try:
        assert kept.patients == 7 and len(problems) == 3
        library = default_library()
        shards = [[rec.patient_id for rec in read_indexed(kept, library, Shard(n, 3))] for n in range(3)]
        whole = [rec.patient_id for rec in read_patients(ndjson)]  # first appearance: n4 comes before n2
        assert whole[:4] == ["n0", "n1", "n4", "n2"] and shards == [whole[n::3] for n in range(3)]
        assert kept.folder.exists()  # readers leave the index to whoever kept it
    finally:
        remove_index(kept)
    assert not kept.folder.exists()
    with pytest.raises(ValueError, match="does not exist"):
        Shard(3, 3)


def test_broken_records_are_each_rejected_once_with_several_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "MIN_SHARD", 1)
    inputs = _inputs(tmp_path)
    done: list[tuple[int, int, int | None]] = []
    manifest = ingest(inputs, tmp_path / "store", AS_OF, store_calls([]), workers=3, progress=lambda *p: done.append(p))
    assert (manifest.patients_read, manifest.patients_stored, manifest.patients_rejected) == (17, 17, 0)
    assert done[-1] == (17, 1, 17)  # every patient counted once across the shards
    rejects = _rejects(tmp_path / "store")
    assert sum(rejects.values()) == manifest.records_rejected == 5 and set(rejects.values()) == {1}
    assert {record.split(" (")[0] for record, _ in rejects} == {
        "cohort.ndjson line 3",
        "cohort.ndjson line 4",
        "cohort.ndjson line 5",
        "Bundle entry 7",
        "Observation/orphan-b",
    }
    assert rejects == _rejects(_ingest(inputs, tmp_path / "serial"))
    patients = pq.read_table(tmp_path / "store/patients").to_pylist()
    expected = [f"{kind}{k}" for kind, count in (("n", 7), ("b", 5), ("c", 5)) for k in range(count)]
    assert sorted(p["patient_id"] for p in patients) == sorted(expected)
    assert len({p["pk"] for p in patients}) == 17


def _ingest(inputs: list[Path], store: Path) -> Path:
    ingest(inputs, store, AS_OF, store_calls([]), workers=1)
    return store


def test_an_unreadable_input_is_rejected_once_however_many_shards_meet_it(tmp_path: Path) -> None:
    jobs = [
        Job(tmp_path / "missing.json", tmp_path / "store", 0, AS_OF, store_calls([]), Shard(n, 2)) for n in range(2)
    ]
    results = [ingest_one(job) for job in jobs]
    assert all(r.failure is not None and "missing.json" in r.failure[0] for r in results)
    written: list[tuple[str, str]] = []
    tally = _Tally(Manifest(as_of=AS_OF, concepts_version="x"), written.extend)
    for result in [*results, PartResult(read=2, stored=2)]:
        tally.add(result)
    assert written == [results[0].failure] and tally.manifest.records_rejected == 1
    assert tally.manifest.patients_stored == 2


def _rows(store: Path) -> dict[str, list[str]]:
    """Each table's rows, sorted (part file names ignored; keys kept: they do not depend on the sharing)."""
    tables = [folder for folder in store.iterdir() if folder.is_dir()]
    return {t.name: sorted(repr(sorted(row.items())) for row in pq.read_table(t).to_pylist()) for t in tables}


def test_the_store_is_the_same_whatever_the_number_of_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "MIN_SHARD", 10)
    made = CliRunner().invoke(app, ["synth", "--patients", "40", "--seed", "5", "--out", str(tmp_path / "s"), "--fhir"])
    assert made.exit_code == 0, made.output
    inputs = [*EXAMPLES, tmp_path / "s/fhir"]
    calls = store_calls([])
    one = ingest(inputs, tmp_path / "one", AS_OF, calls, workers=1)
    three = ingest(inputs, tmp_path / "three", AS_OF, calls, workers=3)
    assert one == three and one.patients_stored == len(EXAMPLES) + 40
    assert len(list((tmp_path / "three/patients").iterdir())) == len(EXAMPLES) + 3  # the export was split
    assert _rows(tmp_path / "one") == _rows(tmp_path / "three")
    assert _rejects(tmp_path / "one") == _rejects(tmp_path / "three")


@pytest.mark.parametrize("workers", [1, 2])
def test_ingest_reports_patients_and_facts_as_they_are_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Progress counts every stored patient once, with its facts, whichever process stored it; with workers the
    planned total comes first, so the display can show an ETA."""
    monkeypatch.setattr(ingest_module, "MIN_SHARD", 1)
    inputs = _inputs(tmp_path)
    seen: list[tuple[int, int, int | None]] = []
    manifest = ingest(
        inputs, tmp_path / "store", AS_OF, store_calls([]), workers=workers, progress=lambda *a: seen.append(a)
    )
    patients, facts, total = seen[-1]
    assert patients == manifest.patients_stored == 17
    assert facts == 1  # the one observation that belongs to a patient
    assert [p for p, _, _ in seen] == sorted(p for p, _, _ in seen)  # never goes back
    assert total == (None if workers == 1 else 17)
