"""File formats: the OME-Zarr run store and readers of raw SIM data."""

from ._dask import mark_sr_done, prepare_sr, raw_stacks, write_sr_frame
from ._keys import StackKey
from ._quality import FIT_STATUS_CODES, LEVEL_CODES, PATTERN_SOURCE_CODES, QC_FIELDS
from ._readers import MeasuredOTF, RawStack, read_otf, read_stack
from ._recovery import remove_write_leftovers, unmarked_complete_stacks
from ._sr_images import STACK_FIELDS, stack_values
from ._store import SRStore, open_store

__all__ = [
    "FIT_STATUS_CODES",
    "LEVEL_CODES",
    "PATTERN_SOURCE_CODES",
    "QC_FIELDS",
    "STACK_FIELDS",
    "MeasuredOTF",
    "RawStack",
    "SRStore",
    "StackKey",
    "mark_sr_done",
    "open_store",
    "prepare_sr",
    "raw_stacks",
    "read_otf",
    "read_stack",
    "remove_write_leftovers",
    "stack_values",
    "unmarked_complete_stacks",
    "write_sr_frame",
]
