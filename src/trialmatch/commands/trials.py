"""``trialmatch trials``: import records into the user's library, list the library, show one trial.

Rendering lives in plain functions taking a trial and an optional per-criterion annotation mapping, so the
rules layer can add each criterion's rule and computability without touching the commands.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from trialmatch.commands.exit_codes import ExitCode
from trialmatch.errors import InputError, LibraryError, RuleError
from trialmatch.identifiers import printable, printable_lines
from trialmatch.reports.trials import annotations_for, trial_json, trial_text, trials_table
from trialmatch.rules.ast import Condition
from trialmatch.rules.catalog import TrialRules, bind, find_rule_file, library_rules_dir
from trialmatch.rules.drafting import coverage as draft_coverage
from trialmatch.rules.drafting import gold as gold_set
from trialmatch.rules.drafting.curation import accepted, marked_review, parsed, replaced, save, with_entry
from trialmatch.rules.drafting.library import draft_into_library
from trialmatch.rules.printer import print_rule
from trialmatch.rules.rulefile import CriterionRules, load_rule_file
from trialmatch.terminology.concepts import default_library
from trialmatch.trials.library import TrialLibrary, bundled_trials
from trialmatch.trials.model import Trial
from trialmatch.trials.sources import read_trials

app = typer.Typer(help="Import, list and show trial records.", no_args_is_help=True)

LibraryOption = Annotated[
    Path | None,
    typer.Option("--library", help="Trial library directory (default: $TRIALMATCH_HOME or the user data dir)."),
]
NoBundledOption = Annotated[bool, typer.Option("--no-bundled", help="Leave out the trials bundled with trialmatch.")]


def _error(message: object) -> None:
    typer.echo(f"error: {printable(str(message))}", err=True)


def _exit_code(used: int, rejected: int) -> ExitCode:
    if rejected == 0:
        return ExitCode.OK
    return ExitCode.SOME_REJECTED if used else ExitCode.NOTHING_DONE


def _bind_all(trials: Sequence[Trial], library: Path | None) -> list[TrialRules]:
    search = [library_rules_dir(TrialLibrary(library).root)]
    return [bind(t, search) for t in trials]


# ----------------------------------------------------------------------------------------------------
# Commands


def _import_line(path: Path, trials: Sequence[Trial]) -> str:
    described = ", ".join(f"{t.trial_id} ({t.counts()[0]} inclusion, {t.counts()[1]} exclusion)" for t in trials)
    return f"{path}: imported {described}"


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="Trial record files (CT.gov v2 JSON or page text).")],
    library: LibraryOption = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Draft rules for each trial that has no curated rule file.")
    ] = False,
    replace_bundled: Annotated[
        bool,
        typer.Option("--replace-bundled", help="Let an import replace a bundled, curated trial (audited)."),
    ] = False,
) -> None:
    """Add each file's trial(s) to the library; one line per file (and per trial drafted with --draft)."""
    lib = TrialLibrary(library)
    used = rejected = 0
    for path in files:
        try:
            trials = lib.import_file(path, replace_bundled=replace_bundled)
        except (InputError, LibraryError) as exc:
            _error(exc)
            rejected += 1
            continue
        used += 1
        typer.echo(_import_line(path, trials))
        for trial in trials if draft else []:
            try:
                typer.echo(draft_into_library(lib, trial))
            except (LibraryError, RuleError) as exc:
                _error(f"{trial.trial_id} imported, but its rules could not be drafted: {exc}")
                rejected += 1
    raise typer.Exit(_exit_code(used, rejected))


@app.command("remove")
def remove(
    ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Ids or aliases of imported trials.")],
    library: LibraryOption = None,
) -> None:
    """Delete imported trials from the library (recorded in its audit log); bundled trials stay."""
    lib = TrialLibrary(library)
    removed = rejected = 0
    for trial_id in ids:
        try:
            typer.echo(f"removed {lib.remove(trial_id).trial_id}")
            removed += 1
        except LibraryError as exc:
            _error(exc)
            rejected += 1
    raise typer.Exit(_exit_code(removed, rejected))


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
        list[str] | None,
        typer.Argument(metavar="FILE...|DIR|ID", help="Trial files, folders or bundled trial ids."),
    ] = None,
    gold: Annotated[
        Path | None,
        typer.Option(help="A labelled set (docs/labelling.md): report precision and coverage against it."),
    ] = None,
) -> None:
    """Draft the trials' criteria in memory (nothing written) and report how much is computable; with --gold,
    also how the drafts measure against a labelled set."""
    if gold is not None:
        try:
            typer.echo(gold_set.render(gold_set.score(gold_set.load_gold(gold))))
        except InputError as exc:
            _error(exc)
            raise typer.Exit(ExitCode.NOTHING_DONE) from None
        if not sources:
            raise typer.Exit(ExitCode.OK)
        typer.echo("")
    if not sources:
        _error("give trial files, folders or ids, or --gold FILE")
        raise typer.Exit(ExitCode.NOTHING_DONE)
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
        text = "\n\n".join(f"{trial_text(b.trial, annotations_for(b))}\n\n{b.coverage().line()}" for b in bound)
        typer.echo(printable_lines(text))


@app.command("review")
def review(
    trial_id: Annotated[str, typer.Argument(metavar="TRIAL", help="Trial id or alias in the library.")],
    reviewer: Annotated[str | None, typer.Option(help="Who reviews; recorded with the date.")] = None,
    library: LibraryOption = None,
) -> None:
    """Walk through a trial's drafted rules, text beside rule: accept, edit, mark review, skip or quit.

    Each decision is written to the library's rule file at once, with who and when."""
    lib = TrialLibrary(library)
    try:
        trial = lib.get(trial_id)
    except LibraryError as exc:
        _error(exc)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    folder = library_rules_dir(lib.root)
    path = find_rule_file(trial, [folder])
    if path is None or path.parent != folder:
        _error(f"{trial.trial_id}: no drafted rules in the library; import the record with --draft first")
        raise typer.Exit(ExitCode.NOTHING_DONE)
    concepts = default_library().ids()
    rules = load_rule_file(path, concepts=concepts)
    drafts = [c for c in rules.criteria if c.drafted and c.effective_rule() is not None]
    if not drafts:
        typer.echo(f"{trial.trial_id}: no drafted rules left to review ({path})")
        return
    who = reviewer or typer.prompt("Your name (recorded with each decision)")
    reviewed = 0
    for entry in drafts:
        decided = _review_one(entry, who, concepts)
        if decided is None:
            break
        if decided is not entry:
            rules = with_entry(rules, decided)
            save(rules, path)
            reviewed += 1
    left = sum(c.drafted and c.effective_rule() is not None for c in rules.criteria)
    typer.echo(f"{trial.trial_id}: {reviewed} reviewed, {left} still drafted ({path})")


def _own_rule(concepts: Collection[str]) -> Condition | None:
    """A rule typed by the reviewer, asked again until it reads; None when left empty."""
    while text := typer.prompt("Rule (empty to go back)", default="", show_default=False).strip():
        try:
            return parsed(text, concepts)
        except RuleError as exc:
            _error(exc)
    return None


def _review_one(entry: CriterionRules, who: str, concepts: Collection[str]) -> CriterionRules | None:
    """One draft shown beside its text and decided; the entry itself when skipped, None to stop."""
    rule = entry.effective_rule()
    assert rule is not None
    typer.echo(f"\n{entry.id}  {entry.text}\n  drafted [{entry.computability}]: {print_rule(rule)}")
    today = dt.date.today()
    while True:
        choice = typer.prompt("[a]ccept, [e]dit, [r]eview at the site, [s]kip, [q]uit", default="s").strip().lower()
        if choice == "a":
            return accepted(entry, who, today)
        if choice == "e" and (own := _own_rule(concepts)) is not None:
            return replaced(entry, own, who, today)
        if choice == "r":
            reason = typer.prompt("What the site must confirm", default=entry.text[:100])
            return marked_review(entry, reason, who, today)
        if choice == "s":
            return entry
        if choice == "q":
            return None
