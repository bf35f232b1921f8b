"""The embedded terminology pack: rebuilt from its sources it equals the committed one, and it was built
from the concept library as it stands."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from trialmatch.terminology.concepts import ConceptLibrary, default_library

ROOT = Path(__file__).resolve().parents[2]
PACK = resources.files("trialmatch") / "data" / "terminology"


def _manifest() -> dict[str, object]:
    return dict(json.loads((PACK / "manifest.json").read_text(encoding="utf-8")))


def test_pack_was_built_from_the_current_concept_bindings() -> None:
    assert _manifest()["concept_bindings"] == ConceptLibrary.load().binding_digest(), (
        "the concept library's bindings changed: run scripts/build_terminology.py and commit the pack"
    )


def test_pack_carries_versions_and_attributions() -> None:
    manifest = _manifest()
    text = json.dumps(manifest)
    for owner in ("SNOMED", "LOINC", "RxNorm", "ICD-10-CM", "VSAC", "MITRE", "Apache"):
        assert owner in text
    sources = manifest["sources"]
    assert isinstance(sources, dict)
    assert all(vs["version"] for vs in sources["value_sets"])
    assert default_library().version.endswith(f"+pack#{manifest['version']}")


def test_rebuilt_pack_equals_the_committed_one(shared_dir: Path, tmp_path: Path) -> None:
    if importlib.util.find_spec("simple_icd_10_cm") is None:
        pytest.fail("simple-icd-10-cm (a dev dependency) is needed to rebuild the pack")
    script = ROOT / "scripts" / "build_terminology.py"
    subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            str(script),
            "--sources",
            str(shared_dir / "terminology"),
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    for name in ("codes.tsv.gz", "manifest.json"):
        assert (tmp_path / name).read_bytes() == (PACK / name).read_bytes(), f"{name} differs from a rebuild"
