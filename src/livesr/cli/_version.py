# typer reads annotations at runtime, so no `from __future__ import annotations` here.
from typing import Annotated

import typer

from livesr._version import __version__

from ._app import app


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"livesr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Show the full traceback of an error (works anywhere on the line)."
        ),
    ] = False,
) -> None:
    """Live deep-learning super-resolution for structured-illumination microscopy."""
    # `run_cli` reads --debug wherever it stands, before typer parses the line; declaring it
    # here documents it in `livesr --help`.
    del version, debug
