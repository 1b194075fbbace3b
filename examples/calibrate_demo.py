"""Calibrate the demo microscope the way a lab calibrates its own SIM.

Acquires a few bright SIM stacks per channel on the simulated microscope (a real pymmcore-plus
MDA with the SIM pattern events), pools them, fits the pattern with the same estimator
`livesr calibrate` uses, and writes the calibration YAML. This is how
`livesr/simulate/data/demo_calibration.yaml` was made:

    python examples/calibrate_demo.py src/livesr/simulate/data/demo_calibration.yaml
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import useq

from livesr.acquire import open_core, sim_events
from livesr.config import Calibration, OpticsConfig, PatternConfig
from livesr.reconstruct.conventional import calibrate


def bright_stacks(
    size: int = 256, timepoints: int = 4, photons: float = 2000.0
) -> dict[str, np.ndarray]:
    """uint16 (N, 9, Y, X) raw stacks per channel name, from the demo microscope."""
    core = open_core("demo")
    core.setProperty("Camera", "Size", size)
    core.setProperty("Camera", "Photons", photons)
    core.setExposure(5.0)
    frames: dict[str, list[np.ndarray]] = defaultdict(list)
    core.mda.events.frameReady.connect(
        lambda img, event, meta: frames[event.channel.config].append(np.array(img))
    )
    sequence = useq.MDASequence(
        channels=["488", "561"], time_plan={"interval": 0, "loops": timepoints}
    )
    core.mda.run(sim_events(sequence, PatternConfig()))
    core.unloadAllDevices()
    n = PatternConfig().n_frames
    return {c: np.stack(f).reshape(-1, n, size, size) for c, f in frames.items()}


def main(out: Path) -> None:
    optics, pattern = OpticsConfig(), PatternConfig()
    channels = {}
    for channel, stacks in bright_stacks().items():
        source = "demo microscope, 4 bright stacks (examples/calibrate_demo.py)"
        cal, _ = calibrate(
            stacks, pattern, optics, channel=channel, camera_offset=100.0, camera_gain=0.46,
            source=source,
        )  # fmt: skip
        channels.update(cal.channels)
        print(channel, [round(o.confidence or 0.0, 1) for o in cal.channels[channel].orientations])
    merged = Calibration.model_validate({**cal.model_dump(), "channels": channels})
    merged.to_yaml(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "demo_calibration.yaml"))
