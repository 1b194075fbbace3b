"""What `SRStore` supplies to the mixins that make up its halves (typing only)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import zarr

__all__ = ["StoreParts"]


class StoreParts:
    """The group, description and array access of a run store, as the mixins see them."""

    path: Path
    _group: zarr.Group

    if TYPE_CHECKING:

        @property
        def info(self) -> dict[str, Any]: ...
        @property
        def channels(self) -> tuple[str, ...]: ...
        @property
        def n_timepoints(self) -> int: ...
        @property
        def n_positions(self) -> int: ...
        @property
        def n_z(self) -> int: ...
        def _array(self, name: str) -> zarr.Array: ...
        def _update_info(self, **changes: Any) -> None: ...
        def _ensure_t(self, t: int, names: Sequence[str]) -> None: ...
