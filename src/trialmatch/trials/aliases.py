"""Known trial aliases shipped as data, to give a canonical registry id to documents that print none."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

import yaml
from pydantic import ValidationError

from trialmatch.errors import TrialmatchError
from trialmatch.trials.model import Frozen


class AliasEntry(Frozen):
    """One trial's canonical id, its other ids and the titles documents print for it."""

    trial_id: str
    aliases: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()


def fold_title(title: str) -> str:
    """Title compared without case, punctuation or spacing differences."""
    return " ".join(re.sub(r"[\W_]+", " ", title.casefold()).split())


def fold_id(identifier: str) -> str:
    """Ids compare case-insensitively and without surrounding spaces."""
    return identifier.strip().casefold()


class AliasTable:
    """Lookup from any known id or title to the trial's entry."""

    def __init__(self, entries: Iterable[AliasEntry]) -> None:
        self._by_id: dict[str, AliasEntry] = {}
        self._by_title: dict[str, AliasEntry] = {}
        for entry in entries:
            for identifier in (entry.trial_id, *entry.aliases):
                self._by_id[fold_id(identifier)] = entry
            for title in entry.titles:
                self._by_title[fold_title(title)] = entry

    def resolve(self, *, ids: Iterable[str] = (), title: str | None = None) -> AliasEntry | None:
        """The entry for the first id that is known, else for the title; None when nothing matches."""
        for identifier in ids:
            entry = self._by_id.get(fold_id(identifier))
            if entry is not None:
                return entry
        return self._by_title.get(fold_title(title)) if title else None


@cache
def alias_table() -> AliasTable:
    """The packaged alias table, read once per process."""
    resource = files("trialmatch").joinpath("data/trials/aliases.yaml")
    try:
        raw = yaml.safe_load(resource.read_text(encoding="utf-8")) or []
        return AliasTable(AliasEntry.model_validate(item) for item in raw)
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise TrialmatchError(f"packaged alias table data/trials/aliases.yaml is invalid: {exc}") from exc


_NCT = re.compile(r"NCT\d{8}", re.IGNORECASE)


def canonical_ids(printed: Iterable[str], title: str | None) -> tuple[str | None, tuple[str, ...]]:
    """The trial id and aliases for the ids a record prints and its title.

    A printed NCT id wins; else a known alias entry gives the id; else the first printed id (the sponsor's).
    Aliases keep every other printed id and every id the table knows, each once.
    """
    ids = [i.strip() for i in printed if i.strip()]
    entry = alias_table().resolve(ids=ids, title=title)
    nct = next((i.upper() for i in ids if _NCT.fullmatch(i)), None)
    trial_id = nct or (entry.trial_id if entry else None) or (ids[0] if ids else None)
    known = (entry.trial_id, *entry.aliases) if entry else ()
    seen = {fold_id(trial_id)} if trial_id else set()
    aliases: list[str] = []
    for identifier in (*ids, *known):
        if fold_id(identifier) not in seen:
            seen.add(fold_id(identifier))
            aliases.append(identifier)
    return trial_id, tuple(aliases)
