"""The ``livesr`` command line (typer). One module per command; this module wires them."""

from __future__ import annotations

# Each import registers its command(s) on `app`.
from . import (  # noqa: F401
    _acquire,
    _bench,
    _calibrate,
    _demo,
    _evaluate,
    _export,
    _preview,
    _qc,
    _reconstruct,
    _reprocess,
    _simulate,
    _train,
    _version,
)
from ._app import app
from ._errors import run_cli

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``livesr`` console script (``--debug`` shows tracebacks)."""
    run_cli(app)
