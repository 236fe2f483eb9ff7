"""Errors in the user's input: a bad flag, a missing file, a document that is not valid.

Every such error carries what a user needs to fix it: the file, the place inside
it (a JSON pointer or a field), what was expected, and what to do. The CLI turns
a :class:`ContractInputError` into one message on stderr and exit code 2.
"""

from __future__ import annotations

from pathlib import Path


class ContractInputError(Exception):
    """A problem with the documents or options given to a contracts command.

    Attributes:
        file: The file at fault, if any.
        pointer: JSON pointer (RFC 6901) or field path inside the file, if known.
        line: 1-based line inside the file, if known (syntax and safety errors).
        problem: What is wrong, in a few words.
        expected: What was expected instead.
        hint: What the user can do about it.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: Path | str | None = None,
        pointer: str | None = None,
        line: int | None = None,
        expected: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.pointer = pointer
        self.line = line
        self.problem = problem
        self.expected = expected
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """Return the one-paragraph message shown to the user.

        Returns:
            ``FILE:LINE#POINTER: problem; expected ...; hint`` with absent parts left out.
        """
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        if self.pointer is not None:
            where = f"{where}#{self.pointer}" if where else self.pointer
        parts = [f"{where}: {self.problem}" if where else self.problem]
        if self.expected:
            parts.append(f"expected {self.expected}")
        if self.hint:
            parts.append(self.hint)
        return "; ".join(parts)
