"""Exceptions raised by trialmatch.

Every error the package raises on purpose derives from one root, so callers (the CLI, the API) can catch
what they expect and let programming errors surface::

    TrialmatchError
    ├── InputError            a file or record could not be read (names the file or record, never a patient value)
    │   ├── UnrecognizedFormatError   no reader accepts the content
    │   └── RecordError              a reader accepted the format but the content is malformed
    ├── RuleError             a rule file or rule text is invalid
    │   └── RuleSyntaxError          with line, column and what was expected
    ├── ConceptError          the concept library is inconsistent, or a rule names an unknown concept
    ├── LibraryError          the user's trial library cannot be read or written
    │   └── CuratedTrialError        an import would replace a bundled, curated trial without the override
    ├── UnitError             a value's unit cannot be converted to its concept's canonical unit
    └── WorklistError         the work-list database cannot be opened, or a change to it is refused
"""

from __future__ import annotations


class TrialmatchError(Exception):
    """Root of every error trialmatch raises on purpose."""


class InputError(TrialmatchError):
    """A file or record could not be read."""


class UnrecognizedFormatError(InputError):
    """No reader recognizes the content of a file."""


class RecordError(InputError):
    """A reader recognized the format, but the content is malformed."""


class RuleError(TrialmatchError):
    """A rule file or rule text is invalid."""


class RuleSyntaxError(RuleError):
    """Rule text does not parse; carries the position and what was expected."""

    def __init__(self, message: str, *, line: int, column: int, source_line: str = "") -> None:
        self.line = line
        self.column = column
        self.source_line = source_line
        pointer = f"\n  {source_line}\n  {' ' * max(column - 1, 0)}^" if source_line else ""
        super().__init__(f"line {line}, column {column}: {message}{pointer}")


class ConceptError(TrialmatchError):
    """The concept library is inconsistent, or a rule names an unknown concept."""


class LibraryError(TrialmatchError):
    """The user's trial library cannot be read or written."""


class CuratedTrialError(LibraryError):
    """An import would replace a bundled, curated trial, and the caller did not ask for that."""


class UnitError(TrialmatchError):
    """A unit cannot be converted to a concept's canonical unit."""


class WorklistError(TrialmatchError):
    """The work-list database cannot be opened, or a change to it is refused."""
