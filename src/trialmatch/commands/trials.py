"""``trialmatch trials``: import records into the user's library, list the library, show one trial.

Rendering lives in plain functions taking a trial and an optional per-criterion annotation mapping, so the
rules layer can add each criterion's rule and computability without touching the commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from trialmatch.commands.exit_codes import ExitCode
from trialmatch.errors import InputError, LibraryError, RuleError
from trialmatch.rules.catalog import RULE_SUFFIX, TrialRules, bind, find_rule_file, library_rules_dir, load_rules
from trialmatch.rules.drafting import coverage as draft_coverage
from trialmatch.rules.drafting.draft import draft_trial, with_limits
from trialmatch.rules.printer import print_rule
from trialmatch.rules.rulefile import dump_rule_file
from trialmatch.trials.library import TrialLibrary, bundled_trials
from trialmatch.trials.model import Criterion, CriterionType, Trial
from trialmatch.trials.sources import read_trials

app = typer.Typer(help="Import, list and show trial records.", no_args_is_help=True)

LibraryOption = Annotated[
    Path | None,
    typer.Option("--library", help="Trial library directory (default: $TRIALMATCH_HOME or the user data dir)."),
]
NoBundledOption = Annotated[bool, typer.Option("--no-bundled", help="Leave out the trials bundled with trialmatch.")]
NONE_MARK = "—"


@dataclass(frozen=True)
class CriterionAnnotation:
    """What the rules layer knows about one criterion (all fields None until rules are attached)."""

    rule: str | None = None
    computability: str | None = None
    source_hash: str | None = None
    drafted: bool | None = None


Annotations = Mapping[str, CriterionAnnotation]


def _error(message: object) -> None:
    typer.echo(f"error: {message}", err=True)


def _exit_code(used: int, rejected: int) -> ExitCode:
    if rejected == 0:
        return ExitCode.OK
    return ExitCode.SOME_REJECTED if used else ExitCode.NOTHING_DONE


# ----------------------------------------------------------------------------------------------------
# Rendering


def criterion_json(criterion: Criterion, annotations: Annotations | None = None) -> dict[str, Any]:
    """One criterion per ``trial.schema.json``; rule fields are null where no annotation is given."""
    note = (annotations or {}).get(criterion.id, CriterionAnnotation())
    out: dict[str, Any] = {
        "id": criterion.id,
        "type": criterion.type.value,
        "text": criterion.text,
        "rule": note.rule,
        "computability": note.computability,
        "source_hash": note.source_hash,
    }
    if note.drafted is not None:
        out["drafted"] = note.drafted
    out["children"] = [criterion_json(child, annotations) for child in criterion.children]
    return out


def trial_json(trial: Trial, annotations: Annotations | None = None) -> dict[str, Any]:
    """The trial as ``trials show --format json`` prints it (shared contract ``trial.schema.json``)."""
    return {
        "trial_id": trial.trial_id,
        "aliases": list(trial.aliases),
        "title": trial.title,
        "official_title": trial.official_title,
        "acronym": trial.acronym,
        "phases": list(trial.phases),
        "recruitment_status": trial.recruitment_status,
        "status_text": trial.status_text,
        "sex": trial.sex,
        "minimum_age_years": trial.minimum_age_years,
        "maximum_age_years": trial.maximum_age_years,
        "conditions": list(trial.conditions),
        "interventions": [f"{i.type}: {i.name}" if i.type else i.name for i in trial.interventions],
        "sites": [site.model_dump(exclude_none=True) for site in trial.sites],
        "start_date": trial.start_date.isoformat() if trial.start_date else None,
        "completion_date": trial.completion_date.isoformat() if trial.completion_date else None,
        "enrollment": trial.enrollment,
        "source_format": trial.source.format,
        "source_file": trial.source.file,
        "criteria": [criterion_json(c, annotations) for c in trial.criteria],
    }


def _age_text(trial: Trial) -> str:
    low, high = trial.minimum_age_years, trial.maximum_age_years
    if low is None and high is None:
        return NONE_MARK
    return f"{low:g}" if high is None else f"{'' if low is None else f'{low:g}'}–{high:g}"


def _criterion_lines(criterion: Criterion, annotations: Annotations | None, depth: int) -> list[str]:
    pad = "  " * depth
    lines = [f"{pad}{criterion.id:<8} {criterion.text}"]
    note = (annotations or {}).get(criterion.id)
    if note is not None and (note.rule or note.computability):
        rule = (note.rule or NONE_MARK).replace("\n", f"\n{pad}{'':<8}       ")
        lines.append(f"{pad}{'':<8} rule: {rule} [{note.computability or 'no rule'}]")
    for child in criterion.children:
        lines.extend(_criterion_lines(child, annotations, depth + 1))
    return lines


def trial_text(trial: Trial, annotations: Annotations | None = None) -> str:
    """Header, then each criterion with its id (sub-items indented) and, when annotated, its rule."""
    facts = [
        f"acronym {trial.acronym or NONE_MARK}",
        f"phase {'/'.join(trial.phases) or NONE_MARK}",
        f"status {trial.recruitment_status or NONE_MARK}" + (f" ({trial.status_text})" if trial.status_text else ""),
        f"sex {trial.sex or NONE_MARK}",
        f"age {_age_text(trial)}",
    ]
    lines = [f"{trial.trial_id}  {trial.title}", " · ".join(facts)]
    if trial.aliases:
        lines.append(f"aliases: {', '.join(trial.aliases)}")
    lines.append(f"source: {trial.source.format} ({trial.source.file or NONE_MARK})")
    for kind in CriterionType:
        lines += ["", f"{kind.value.capitalize()} criteria"]
        for criterion in (c for c in trial.criteria if c.type is kind):
            lines.extend(_criterion_lines(criterion, annotations, 1))
    return "\n".join(lines)


def trials_table(trials: Iterable[Trial], coverage: Mapping[str, str] | None = None) -> Table:
    """The ``trials list`` table; coverage per trial id comes from the rules layer (— until then)."""
    headers = ("id", "acronym", "phase", "status", "criteria (inc/exc)", "coverage (comp/part/review)")
    table = Table(*(Column(header, overflow="fold") for header in headers))
    for trial in trials:
        inclusion, exclusion = trial.counts()
        cells = (
            trial.trial_id,
            trial.acronym or NONE_MARK,
            "/".join(trial.phases) or NONE_MARK,
            trial.recruitment_status or trial.status_text or NONE_MARK,
            f"{inclusion} / {exclusion}",
            (coverage or {}).get(trial.trial_id, NONE_MARK),
        )
        table.add_row(*(Text(cell) for cell in cells))
    return table


def annotations_for(bound: TrialRules) -> dict[str, CriterionAnnotation]:
    """Each criterion's rule (printed), computability, hash and drafted mark from the trial's rule file."""
    out: dict[str, CriterionAnnotation] = {}
    for criterion in bound.trial.all_criteria():
        entry = bound.entry(criterion.id)
        if entry is None:
            continue
        rule = bound.rule_for(criterion.id) if not entry.qualifies else entry.effective_rule()
        text = print_rule(rule) if rule is not None else None
        if entry.qualifies:
            text = f"exception to {entry.qualifies}: {text}"
        if bound.is_stale(criterion.id):
            text = f"STALE (written for another text) {text or ''}".strip()
        out[criterion.id] = CriterionAnnotation(
            rule=text, computability=entry.computability, source_hash=entry.text_hash, drafted=entry.drafted
        )
    return out


def _bind_all(trials: Sequence[Trial], library: Path | None) -> list[TrialRules]:
    search = [library_rules_dir(TrialLibrary(library).root)]
    return [bind(t, search) for t in trials]


# ----------------------------------------------------------------------------------------------------
# Commands


def _import_line(path: Path, trials: Sequence[Trial]) -> str:
    described = ", ".join(f"{t.trial_id} ({t.counts()[0]} inclusion, {t.counts()[1]} exclusion)" for t in trials)
    return f"{path}: imported {described}"


def _draft_line(lib: TrialLibrary, trial: Trial) -> str:
    """Draft rules for a trial nobody curated into the library's rules folder; never over curated or site rules."""
    folder = library_rules_dir(lib.root)
    existing = find_rule_file(trial, [folder])
    if existing is not None and existing.parent != folder:
        return f"{trial.trial_id}: curated rules exist ({existing.name}), not drafted"
    if existing is not None and not all(c.drafted for c in load_rules(existing).criteria):
        return f"{trial.trial_id}: the site's own rules in {existing} kept, not drafted"
    rules = draft_trial(trial)
    target = folder / f"{trial.trial_id}{RULE_SUFFIX}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(dump_rule_file(rules), encoding="utf-8")
    except OSError as exc:
        raise LibraryError(f"cannot write drafted rules for {trial.trial_id} to {folder}: {exc}") from exc
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
    return f"{trial.trial_id}: drafted {len(rules.criteria)} criteria ({described}) into {target}{found}"


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="Trial record files (CT.gov v2 JSON or page text).")],
    library: LibraryOption = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Draft rules for each trial that has no curated rule file.")
    ] = False,
) -> None:
    """Add each file's trial(s) to the library; one line per file (and per trial drafted with --draft)."""
    lib = TrialLibrary(library)
    used = rejected = 0
    for path in files:
        try:
            trials = lib.import_file(path)
            drafted = [_draft_line(lib, t) for t in trials] if draft else []
        except (InputError, LibraryError, RuleError) as exc:
            _error(exc)
            rejected += 1
            continue
        used += 1
        typer.echo("\n".join([_import_line(path, trials), *drafted]))
    raise typer.Exit(_exit_code(used, rejected))


def _coverage_trials(sources: Sequence[str]) -> tuple[list[Trial], int]:
    """Trials from files, folders (every .json and .txt in them) and bundled trial ids; and how many were rejected.

    Each file or id that cannot be used gets one error line; the others are still counted.
    """
    bundled = {t.trial_id.upper(): t for t in bundled_trials()}
    trials: list[Trial] = []
    rejected = 0
    for source in sources:
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".txt"))
            if not files:
                _error(f"{path}: no .json or .txt trial records in this folder")
                rejected += 1
        elif path.is_file():
            files = [path]
        elif source.upper() in bundled:
            trials.append(bundled[source.upper()])
            continue
        else:
            _error(f"{source}: not a file, a folder or a bundled trial id")
            rejected += 1
            continue
        for file in files:
            try:
                trials += read_trials(file)
            except InputError as exc:
                _error(exc)
                rejected += 1
    return trials, rejected


@app.command("coverage")
def coverage(
    sources: Annotated[
        list[str], typer.Argument(metavar="FILE...|DIR|ID", help="Trial files, folders or bundled trial ids.")
    ],
) -> None:
    """Draft the trials' criteria in memory (nothing written) and report how much is computable."""
    trials, rejected = _coverage_trials(sources)
    if not trials:
        _error("no trial records to measure")
        raise typer.Exit(ExitCode.NOTHING_DONE)
    typer.echo(draft_coverage.render(draft_coverage.measure(trials)))
    raise typer.Exit(_exit_code(len(trials), rejected))


@app.command("list")
def list_(library: LibraryOption = None, no_bundled: NoBundledOption = False) -> None:
    """A table of every trial in the library: id, acronym, phase, status, criteria, coverage."""
    try:
        trials = TrialLibrary(library, include_bundled=not no_bundled).load_all()
    except LibraryError as exc:
        _error(exc)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    if not trials:
        typer.echo("no trials in the library; add some with `trialmatch trials import FILE`")
        return
    try:
        bound = _bind_all(trials, library)
    except RuleError as exc:
        _error(exc)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    Console().print(trials_table(trials, {b.trial.trial_id: b.coverage().short() for b in bound}))


def _resolve(id_or_file: str, library: Path | None, no_bundled: bool) -> list[Trial]:
    """Trials of a file when the argument names one, else the library trial with that id or alias."""
    path = Path(id_or_file)
    if path.is_file():
        return read_trials(path)
    return [TrialLibrary(library, include_bundled=not no_bundled).get(id_or_file)]


@app.command("show")
def show(
    id_or_file: Annotated[str, typer.Argument(metavar="ID_OR_FILE", help="Trial id, alias, or a record file.")],
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    library: LibraryOption = None,
    no_bundled: NoBundledOption = False,
) -> None:
    """Print a trial with each criterion (and its rule, once rules are attached)."""
    if output_format not in ("text", "json"):
        _error(f"--format must be text or json, not {output_format!r}")
        raise typer.Exit(ExitCode.NOTHING_DONE)
    try:
        trials = _resolve(id_or_file, library, no_bundled)
    except (InputError, LibraryError) as exc:
        _error(exc)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    try:
        bound = _bind_all(trials, library)
    except RuleError as exc:
        _error(exc)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    if output_format == "json":
        payload: Any = [trial_json(b.trial, annotations_for(b)) | {"rules_version": b.version} for b in bound]
        typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n\n".join(f"{trial_text(b.trial, annotations_for(b))}\n\n{b.coverage().line()}" for b in bound))
