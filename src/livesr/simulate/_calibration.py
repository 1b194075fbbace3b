"""The demo microscope's calibration, shipped like a real instrument's.

Written by ``livesr calibrate`` on bright stacks of the demo microscope. The demo run and the
tests reconstruct its data with it, exactly as a lab would with its own instrument's file; no
pattern is built in anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livesr.config import Calibration

__all__ = ["DEMO_CALIBRATION", "demo_calibration"]

#: The file itself (YAML), for ``--calibration`` on the command line.
DEMO_CALIBRATION = Path(__file__).parent / "data" / "demo_calibration.yaml"


def demo_calibration() -> Calibration:
    """The demo microscope's `Calibration` (channels ``"488"`` and ``"561"``)."""
    from livesr.config import Calibration

    return Calibration.from_file(DEMO_CALIBRATION)
