"""A share of one input's patients, so that several processes can read a single large input side by side."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """Every ``count``-th patient of an input, starting with patient number ``index`` (0-based, reading order).

    Every n-th patient rather than a contiguous range: no shard needs the patient count, and each gets a
    similar mix of large and small records."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count} does not exist")

    def ordinal(self, k: int) -> int:
        """The input-wide number of this shard's ``k``-th patient (0-based), the same however it is shared."""
        return self.index + k * self.count

    def select(self, items: Iterable[T]) -> Iterator[T]:
        """This shard's items of an input-wide sequence (the others are skipped, not built)."""
        return islice(items, self.index, None, self.count)


WHOLE = Shard()
"""Every patient."""
