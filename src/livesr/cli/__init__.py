"""The ``livesr`` command line (typer). One module per command; this module wires them."""

from __future__ import annotations

# Each import registers its command(s) on `app`.
from . import _acquire  # noqa: F401
from . import _bench  # noqa: F401
from . import _demo  # noqa: F401
from . import _evaluate  # noqa: F401
from . import _export  # noqa: F401
from . import _preview  # noqa: F401
from . import _reconstruct  # noqa: F401
from . import _reprocess  # noqa: F401
from . import _simulate  # noqa: F401
from . import _train  # noqa: F401
from . import _version  # noqa: F401
from ._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``livesr`` console script."""
    app()
