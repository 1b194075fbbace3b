"""Live preview of a run: an ndv window, headless PNG snapshots, and a store watcher.

The pipeline's signals fill a :class:`PreviewFeed` (O(1) per frame, any thread); renderers pull
from it at their own pace: :class:`PreviewWindow` (two ``ndv.ArrayViewer``, WF | SR, via qtpy;
the ``viewer`` extra; at most ~30 Hz; an optional overlay draws the quality error maps in red)
and :class:`SnapshotWriter` (periodic ``latest.png`` + ``status.json`` beside the store).
:class:`StoreWatcher` fills a feed from a finished or growing store instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._composite import (
    CHANNEL_COLORS,
    ERROR_MAP_COLOR,
    ERROR_MAP_RANGE,
    auto_limits,
    composite,
    error_map_limits,
    error_map_overlays,
    panel_limits,
    render_panels,
)
from ._feed import LiveStatus, PreviewFeed, PreviewFrame
from ._live import PipelineTap, attach, display_available, with_preview
from ._png import encode_png, write_png
from ._snapshots import SnapshotWriter, snapshot_dir
from ._store_watch import StoreWatcher

if TYPE_CHECKING:
    from ._window import PreviewWindow, ensure_app

__all__ = [
    "CHANNEL_COLORS",
    "ERROR_MAP_COLOR",
    "ERROR_MAP_RANGE",
    "LiveStatus",
    "PipelineTap",
    "PreviewFeed",
    "PreviewFrame",
    "PreviewWindow",
    "SnapshotWriter",
    "StoreWatcher",
    "attach",
    "auto_limits",
    "composite",
    "display_available",
    "encode_png",
    "ensure_app",
    "error_map_limits",
    "error_map_overlays",
    "panel_limits",
    "render_panels",
    "snapshot_dir",
    "with_preview",
    "write_png",
]


def __getattr__(name: str) -> Any:
    # Qt is an optional extra: import it only when the window is asked for.
    if name in {"PreviewWindow", "ensure_app"}:
        from . import _window

        return getattr(_window, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
