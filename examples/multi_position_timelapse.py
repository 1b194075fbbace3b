"""Multi-position z-stack time-lapse with live SIM super-resolution on the demo microscope.

The everyday live-cell experiment: a few stage positions, a small z stack at each, two colours,
repeated over time. Written as a plain useq MDASequence; `LivePipeline` adds the SIM patterns,
reconstructs every (t, position, z, channel) stack live and writes one OME-Zarr store in which
each position is its own image (series) with z as a real axis. The demo's XY stage shows a
different field of the sample at each position; its focus drive defocuses the planes away
from z = 0.

    python examples/multi_position_timelapse.py [out.zarr]

Then look at it: ``livesr preview out.zarr --position 1`` (or open ``out.zarr`` in napari with
napari-ome-zarr, or each ``out.zarr/<p>/0`` array in ndv).
"""

from __future__ import annotations

import sys

import numpy as np
import useq

from livesr.acquire import open_core
from livesr.config import PipelineConfig
from livesr.io import open_store
from livesr.pipeline import LivePipeline, build_reconstructors, default_model

out = sys.argv[1] if len(sys.argv) > 1 else "multi_position.zarr"

sequence = useq.MDASequence(
    channels=["488", "561"],
    stage_positions=[
        useq.Position(x=0.0, y=0.0, name="cell A"),
        useq.Position(x=50.0, y=20.0, name="cell B"),
    ],
    z_plan={"range": 0.6, "step": 0.3},  # 3 planes around the focus
    time_plan={"interval": 1.0, "loops": 3},
    axis_order="tpgcz",
)

core = open_core("demo")
core.setProperty("Camera", "Size", 128)
core.setExposure(5.0)

config = PipelineConfig()
models = {ch.config: default_model(ch.config) for ch in sequence.channels}
reconstructors = build_reconstructors(models, frame_shape=(128, 128), config=config)

with LivePipeline(core, sequence, out, reconstructors=reconstructors, config=config) as pipe:
    pipe.signals.srFrameReady.connect(
        lambda image, info: print(f"SR t={info.t} p={info.p} z={info.z} {info.channel}")
    )
    pipe.run()

print(pipe.summary)
core.unloadAllDevices()

store = open_store(out)
print(f"{out}: positions {store.positions}, {store.n_z} z planes, channels {store.channels}")
for p, name in enumerate(store.positions):
    sr = store.sr_array("sr", p)  # (t, c, z, y, x)
    print(f"  {p} ({name}): sr {sr.shape}, wf {store.wf_array(p).shape}")
done = store.sr_done()  # (t, p, z, c)
print("every stack reconstructed:", bool(store.raw_done().all() and done.all()))
print("mean WF per z plane, position 0, 488:", np.asarray(store.wf_array(0)[0, 0]).mean((1, 2)))
