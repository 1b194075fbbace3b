"""The package logger and a guard for user callbacks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["exceptions_logged", "logger"]

logger = logging.getLogger("livesr")


@contextmanager
def exceptions_logged(what: str) -> Iterator[None]:
    """Log (not raise) exceptions from a callback, so a bad slot cannot stop acquisition."""
    try:
        yield
    except Exception:
        logger.exception("error in %s", what)
