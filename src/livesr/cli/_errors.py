"""How every ``livesr`` command ends on an error: one clear line, a traceback only on request.

A microscopist who mistypes a model name or points ``--out`` at a missing folder needs the
problem and the fix, not 68 lines of stack. Commands raise ordinary exceptions whose messages
already say what and how to fix; `run_cli` turns any that escape into ``error: <message>``
and exit code 1. ``--debug`` anywhere on the command line (or ``LIVESR_DEBUG=1``) shows the
full traceback instead. Ctrl-C exits with 130 like any shell program.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TextIO

__all__ = ["DEBUG_FLAG", "one_line", "run_cli"]

DEBUG_FLAG = "--debug"
_EXIT_ERROR = 1
_EXIT_SIGINT = 130


def one_line(exc: BaseException) -> str:
    """The first line of what `exc` says, with pydantic and YAML errors made readable."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or exc.title
        return f"{exc.title}: {where}: {first['msg']}"
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return (
            f"YAML syntax error in {mark.name} at line {mark.line + 1}, column "
            f"{mark.column + 1}: {exc.problem}"
        )
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def run_cli(app: Callable[..., Any], argv: Sequence[str] | None = None) -> None:
    """Run the typer `app` on `argv` (default ``sys.argv[1:]``); never returns normally.

    Exits with the command's own code, 1 with one ``error:`` line for an exception that
    escaped it, or 130 on Ctrl-C.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in args or os.environ.get("LIVESR_DEBUG", "") not in ("", "0")
    args = [a for a in args if a != DEBUG_FLAG]
    if not debug:
        warnings.showwarning = _one_line_warning
    try:
        code = app(args=args, prog_name="livesr", standalone_mode=False)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted", file=sys.stderr)
        sys.exit(_EXIT_SIGINT)
    except Exception as exc:
        if debug:
            raise
        sys.exit(_report(exc))
    sys.exit(code if isinstance(code, int) else 0)


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Show a warning as one ``warning:`` line (no source line) on the command line.

    livesr's own warnings (e.g. `SIMFitWarning`) are logged as one line where they are
    raised (the ``livesr`` logger; Python prints warning records to stderr when no handler is
    configured), so the command line does not repeat them.
    """
    if category.__module__.split(".")[0] == "livesr":
        return
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def _report(exc: Exception) -> int:
    """Print `exc` as one line; return the exit code."""
    # typer >= 0.20 vendors click, so its exception classes are matched by name rather than
    # imported from either package.
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    if "Abort" in kinds:
        print("interrupted", file=sys.stderr)
        return _EXIT_SIGINT
    if "ClickException" in kinds:
        message = exc.format_message()  # type: ignore[attr-defined]
        code: int = exc.exit_code  # type: ignore[attr-defined]
        ctx = getattr(exc, "ctx", None)
        if "UsageError" in kinds and ctx is not None:
            message = f"{message} (see '{ctx.command_path} --help')"
        print(f"error: {message}", file=sys.stderr)
        return code
    print(
        f"error: {one_line(exc)} (run again with {DEBUG_FLAG} for the traceback)", file=sys.stderr
    )
    return _EXIT_ERROR
