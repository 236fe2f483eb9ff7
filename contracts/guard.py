"""The last line of defence: a failure of the tool is never read as a verdict.

CI reads exit 1 as "the vendor's change breaks us". A crash that exits 1 (a bug,
a document that exhausts memory) would fail a build for the wrong reason, or
worse, pass it when retried without thought. Every command therefore runs
inside :func:`run_guarded`: an unexpected exception becomes one line on stderr
and exit code 3, with the traceback only when ``LIFECYCLE_SANDBOX_TRACEBACK`` is
set; and :func:`memory_limit` caps the address space, so running out of memory is
a ``MemoryError`` the command can report rather than the system killing it.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

INTERNAL_ERROR = 3
"""Exit code when the tool fails: not a verdict on the input."""
TRACEBACK_ENV = "LIFECYCLE_SANDBOX_TRACEBACK"
"""Set this environment variable to see the traceback of an internal error."""


def internal_error(
    message: str, *, show_traceback: bool | None = None, a_bug: bool = True
) -> NoReturn:
    """Stop with exit code 3 and one line; the traceback only when asked for.

    Args:
        message: What happened.
        show_traceback: Print the current exception's traceback (default: when
            ``LIFECYCLE_SANDBOX_TRACEBACK`` is set).
        a_bug: Whether to ask for a report (not for a limit the user set).

    Raises:
        typer.Exit: Always, with code 3.
    """
    if show_traceback is None:
        show_traceback = bool(os.environ.get(TRACEBACK_ENV))
    err = Console(stderr=True, soft_wrap=True)
    if show_traceback:
        err.print(traceback.format_exc(), markup=False, highlight=False)
    err.print(f"[bold red]internal error:[/] {escape(message)}", highlight=False)
    advice = f"This is not a verdict on your input (exit {INTERNAL_ERROR})."
    if a_bug and not show_traceback:
        advice += (
            f" Rerun with {TRACEBACK_ENV}=1 to see where it failed, and report it with the "
            "command you ran."
        )
    err.print(advice, highlight=False, markup=False)
    raise typer.Exit(code=INTERNAL_ERROR)


def run_guarded(app: typer.Typer, prog_name: str) -> None:
    """Run a typer app so that an unexpected exception is exit 3, never 1.

    Args:
        app: The application.
        prog_name: Its name in usage lines.
    """
    try:
        app(prog_name=prog_name)
    except MemoryError:
        _exit_internal("ran out of memory")
    except Exception as exc:  # the last line of defence: never exit 1 on a crash
        _exit_internal(f"{type(exc).__name__}: {exc}")


def _exit_internal(message: str) -> NoReturn:
    try:
        internal_error(message)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)


@contextmanager
def memory_limit(mebibytes: int | None) -> Iterator[None]:
    """Cap the address space for the duration of a block (Linux and macOS).

    Args:
        mebibytes: The cap; ``None`` leaves the limit alone.

    Yields:
        Nothing; the previous limit is restored on the way out.
    """
    if mebibytes is None:
        yield
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = mebibytes * 1024 * 1024
    for limit in (soft, hard):
        if limit != resource.RLIM_INFINITY:
            wanted = min(wanted, limit)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
