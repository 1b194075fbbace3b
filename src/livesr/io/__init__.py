"""File formats: the OME-Zarr run store and readers of raw SIM data."""

from ._readers import MeasuredOTF, RawStack, read_otf, read_stack
from ._store import SRStore, open_store

__all__ = ["MeasuredOTF", "RawStack", "SRStore", "open_store", "read_otf", "read_stack"]
