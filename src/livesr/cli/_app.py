"""The typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="livesr",
    help="Live deep-learning super-resolution for structured-illumination microscopy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
