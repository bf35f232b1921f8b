"""Trial record readers, one module per format; :func:`read_trials` picks the reader from the content."""

from __future__ import annotations

from pathlib import Path

from trialmatch import limits
from trialmatch.errors import InputError, RecordError, UnrecognizedFormatError
from trialmatch.trials.model import Trial
from trialmatch.trials.sources import ctgov_v2, listing_text

__all__ = ["read_trial_text", "read_trials"]


def read_trials(path: Path) -> list[Trial]:
    """Every trial in the file at ``path``, whatever its name; InputError subclasses name the file."""
    try:
        if path.stat().st_size > limits.MAX_FILE:
            raise limits.LimitError(f"{path}: larger than {limits.MAX_FILE} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnrecognizedFormatError(f"{path}: not a text file (not UTF-8)") from exc
    return read_trial_text(text, str(path))


def read_trial_text(text: str, file_name: str) -> list[Trial]:
    """Trials in ``text``: JSON goes to the JSON readers, other text to the listing reader."""
    stripped = text.strip()
    if not stripped:
        raise UnrecognizedFormatError(f"{file_name}: empty file")
    if stripped[0] in "{[":
        return _read_json(stripped, file_name)
    if listing_text.accepts(text):
        return listing_text.read(text, file_name)
    raise UnrecognizedFormatError(
        f"{file_name}: not a recognized trial record (expected ClinicalTrials.gov API v2 JSON, "
        "or a trial page with 'Inclusion Criteria' / 'Exclusion Criteria' headers)"
    )


def _read_json(text: str, file_name: str) -> list[Trial]:
    try:
        data = limits.loads(text)
    except RecordError as exc:
        raise RecordError(f"{file_name}: {exc}") from exc
    if ctgov_v2.accepts(data):
        return ctgov_v2.read(data, file_name)
    raise UnrecognizedFormatError(
        f"{file_name}: JSON but not a ClinicalTrials.gov API v2 study (no protocolSection or studies list)"
    )
