"""Two-colour SIM time-lapse with live super-resolution on the demo microscope.

A plain useq MDASequence (two channels, a time plan) runs through `LivePipeline`: every raw
frame goes to an OME-Zarr store, each channel is reconstructed live by its own reconstructor,
and the wide-field and SR movies land next to the raw data. On a real microscope, replace
``open_core("demo")`` by ``open_core("path/to/rig.cfg")`` (see hardware_configs/README.md).

    python examples/two_color_timelapse.py [out.zarr]
"""

from __future__ import annotations

import sys

import useq

from livesr.acquire import open_core
from livesr.config import PipelineConfig
from livesr.io import open_store
from livesr.pipeline import LivePipeline, build_reconstructors, default_model

out = sys.argv[1] if len(sys.argv) > 1 else "two_color_timelapse.zarr"

# The experiment as a microscopist writes it: no SIM axes, livesr adds the 3 x 3 patterns.
sequence = useq.MDASequence(
    channels=["488", "561"],  # presets of the "Channel" group (microtubules, clathrin pits)
    time_plan={"interval": 1.0, "loops": 5},
)

core = open_core("demo")
core.setProperty("Camera", "Size", 256)
core.setExposure(5.0)

# One reconstructor per channel: bundled DFCAN weights when installed, else Wiener SIM.
config = PipelineConfig()
models = {ch.config: default_model(ch.config) for ch in sequence.channels}
reconstructors = build_reconstructors(models, frame_shape=(256, 256), config=config)


def on_sr(image, info):  # runs on the inference thread; info: livesr.pipeline.SRFrameInfo
    when = "backfilled" if info.backfill else f"latency {info.latency_ms:.0f} ms"
    print(f"SR t={info.t} {info.channel}: {image.shape}, {when}")


with LivePipeline(core, sequence, out, reconstructors=reconstructors, config=config) as pipe:
    pipe.signals.srFrameReady.connect(on_sr)
    pipe.signals.stackSkipped.connect(lambda skip: print(f"skipped {skip.key}: {skip}"))
    core.mda.run(pipe.events)  # the ordinary pymmcore-plus MDA, with SIM events

print(pipe.summary)
core.unloadAllDevices()

store = open_store(out)
# Position 0 (the only one here): raw (t, c, pattern, z, y, x), wf and sr (t, c, z, y, x).
print(f"{out}: raw {store.raw.shape}, wf {store.wf.shape}, sr {store.sr.shape}")
print("every SR frame written:", bool(store.sr_done().all()))
