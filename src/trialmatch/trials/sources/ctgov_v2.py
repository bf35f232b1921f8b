"""Reader for ClinicalTrials.gov API v2 study JSON: one study, a list of them, or ``{"studies": [...]}``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import ValidationError

from trialmatch.errors import RecordError
from trialmatch.trials.aliases import canonical_ids
from trialmatch.trials.model import Criterion, CriterionType, Intervention, Site, Trial, TrialSource
from trialmatch.trials.segment import build_criteria, parse_lines, split_sections
from trialmatch.trials.sources.normalize import age_years

FORMAT = "ctgov-v2-json"
# The registry stores eligibility text as markdown and escapes characters markdown would interpret.
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>^~|=])")


def accepts(data: object) -> bool:
    """Whether parsed JSON looks like v2 study records (a ``protocolSection``, or a ``studies`` list)."""
    if isinstance(data, list):
        return bool(data) and all(isinstance(item, dict) and "protocolSection" in item for item in data)
    return isinstance(data, dict) and ("protocolSection" in data or isinstance(data.get("studies"), list))


def read(data: object, file_name: str) -> list[Trial]:
    """Every study in the parsed JSON as a Trial; a malformed study raises RecordError naming it."""
    studies = data if isinstance(data, list) else data.get("studies", [data]) if isinstance(data, dict) else []
    if not studies:
        raise RecordError(f"{file_name}: no studies in the file")
    return [_study(study, file_name, index) for index, study in enumerate(studies, start=1)]


def _get(node: Any, *path: str) -> Any:
    """The value at a path of keys, or None where any step is missing or not an object."""
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _list(value: Any) -> list[Any]:
    """A JSON array, or nothing when the field holds something else."""
    return value if isinstance(value, list) else []


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values) if isinstance(values, list) else ()


def _date(value: Any) -> dt.date | None:
    """Registry dates are ``YYYY-MM-DD`` or ``YYYY-MM``; a month-only date means its first day."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
        return None
    try:
        return dt.date.fromisoformat(value if len(value) == 10 else f"{value}-01")
    except ValueError:
        return None  # a malformed date (2024-13) is no date, not a reason to reject the record


def _study(study: Any, file_name: str, index: int) -> Trial:
    where = f"{file_name} study #{index}"
    protocol = _get(study, "protocolSection")
    nct_id = _get(protocol, "identificationModule", "nctId")
    title = _get(protocol, "identificationModule", "briefTitle")
    if not isinstance(nct_id, str) or not isinstance(title, str):
        raise RecordError(f"{where}: missing protocolSection.identificationModule nctId or briefTitle")
    trial_id, aliases = canonical_ids((nct_id, *_secondary_ids(protocol)), title)
    try:
        return Trial(
            trial_id=trial_id or nct_id,
            aliases=aliases,
            title=title,
            official_title=_get(protocol, "identificationModule", "officialTitle"),
            acronym=_get(protocol, "identificationModule", "acronym"),
            phases=_strings(_get(protocol, "designModule", "phases")),
            recruitment_status=_get(protocol, "statusModule", "overallStatus"),
            status_text=_get(protocol, "statusModule", "overallStatus"),
            sex=_get(protocol, "eligibilityModule", "sex"),
            minimum_age_years=_age(_get(protocol, "eligibilityModule", "minimumAge")),
            maximum_age_years=_age(_get(protocol, "eligibilityModule", "maximumAge")),
            conditions=_strings(_get(protocol, "conditionsModule", "conditions")),
            interventions=_interventions(_get(protocol, "armsInterventionsModule", "interventions")),
            sites=_sites(_get(protocol, "contactsLocationsModule", "locations")),
            start_date=_date(_get(protocol, "statusModule", "startDateStruct", "date")),
            completion_date=_date(_get(protocol, "statusModule", "completionDateStruct", "date")),
            enrollment=_get(protocol, "designModule", "enrollmentInfo", "count"),
            source=TrialSource(format=FORMAT, file=file_name),
            criteria=_criteria(_get(protocol, "eligibilityModule", "eligibilityCriteria"), where),
        )
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())
        raise RecordError(f"{where} ({nct_id}): unexpected value in {fields}") from exc


def _secondary_ids(protocol: Any) -> tuple[str, ...]:
    """The sponsor's own study id and secondary ids (EudraCT, cooperative-group ids)."""
    org = _get(protocol, "identificationModule", "orgStudyIdInfo", "id")
    secondary = _get(protocol, "identificationModule", "secondaryIdInfos")
    others = [str(item["id"]) for item in _list(secondary) if isinstance(item, dict) and item.get("id")]
    return tuple([str(org)] if org else []) + tuple(others)


def _age(value: Any) -> float | None:
    return age_years(value) if isinstance(value, str) else None


def _interventions(items: Any) -> tuple[Intervention, ...]:
    return tuple(
        Intervention(
            type=item["type"] if isinstance(item.get("type"), str) else None,
            name=item["name"],
            arms=_strings(item.get("armGroupLabels")),
        )
        for item in _list(items)
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    )


def _sites(items: Any) -> tuple[Site, ...]:
    keys = ("facility", "city", "state", "country", "status")
    return tuple(
        Site(**{key: item.get(key) for key in keys if isinstance(item.get(key), str)})
        for item in _list(items)
        if isinstance(item, dict)
    )


def _criteria(text: Any, where: str) -> tuple[Criterion, ...]:
    """Split the eligibility field; text before any header is taken as inclusion criteria."""
    if not isinstance(text, str) or not text.strip():
        raise RecordError(f"{where}: no eligibility criteria (eligibilityModule.eligibilityCriteria)")
    lines = parse_lines(_MARKDOWN_ESCAPE.sub(r"\1", text).splitlines())
    return build_criteria(split_sections(lines, preamble=CriterionType.INCLUSION))
