"""Quality control of SR frames: which pixels and frames to trust.

Pure numpy/scipy (no torch, no onnxruntime), so it runs beside any reconstructor:

- SQUIRREL-style resolution-scaled error and Pearson correlation against the wide-field
  reference, and the error map (`QualityChecker`, `error_map`);
- raw re-synthesis chi^2 per orientation: the raw frames the SR image implies under the
  fitted pattern, against the measured ones (`RawResynthesis`, `frame_chi2`);
- the SR energy beyond the SIM passband, where the raw data hold no information;
- photons per pixel and the modulation per orientation.

`QualityChecker` builds every kernel once per geometry and returns a `QualityRecord` of plain
numbers per frame.
"""

from ._checker import MapGrid, QualityChecker, QualityResult
from ._grid import SRGrid
from ._pattern import PatternState, pattern_state
from ._record import QualityRecord
from ._resynthesis import RawResynthesis, frame_chi2
from ._squirrel import squirrel_sigma_um

__all__ = [
    "MapGrid",
    "PatternState",
    "QualityChecker",
    "QualityRecord",
    "QualityResult",
    "RawResynthesis",
    "SRGrid",
    "frame_chi2",
    "pattern_state",
    "squirrel_sigma_um",
]
