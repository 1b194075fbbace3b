"""The demo SIM microscope as pymmcore-plus Python devices (`UniMMCore`).

Six devices make a two-colour SIM microscope that needs no Micro-Manager installation:

- `SIMCamera`: renders raw SIM frames of a moving two-colour sample (microtubules in 488,
  clathrin-coated pits in 561) with livesr's forward model, under the pattern and laser
  currently selected, and waits out its exposure so it behaves like a real camera. Each frame
  shows the sample at its own exposure time on the camera's frame clock.
- `SIMPatternDevice`: the pattern selector (a DMD running order or SLM): a state device whose
  ``Label`` (``"a0p0"`` ... ``"a2p2"``) is hardware-sequenceable, so pymmcore-plus runs a
  stack, or a whole time point, as one triggered burst.
- `LaserSelector`: the excitation line (``"488"``/``"561"``), sequenceable too.
- `DemoShutter`: the laser shutter; frames taken with it closed are dark.
- `DemoXYStage`: the XY stage. A move of half a field of view or more shows another field of
  the sample (its own specimen), so every stage position of a sequence images something else.
- `DemoFocus`: the focus drive (Z). The sample is in focus at 0 um; away from it the
  pattern's modulation fades and the image dims (`defocus_factors`), as out of focus on a
  real SIM microscope.

Devices of a core cannot query each other (pymmcore-plus gives them a restricted core proxy),
so they share the optical state through one module-level `OpticalBus`, as the trigger cables of
a real rig do: one demo microscope per process. ``hardware_configs/demo_sim.cfg`` (identical
to `DEMO_CFG`) loads them; `livesr.acquire.open_core("demo")` does that for you.

Threads: the camera renders on pymmcore-plus' acquisition thread; the bus is read there and
written from whichever thread sets properties, each field assignment being atomic.
"""

from __future__ import annotations

from livesr.simulate._demo_bus import DEMO_CHANNELS, DEMO_PATTERN, OpticalBus, bus

# DEMO_SIZES: public for the CLI's --size check, though never in __all__.
from livesr.simulate._demo_camera import DEMO_SIZES as DEMO_SIZES
from livesr.simulate._demo_camera import SIMCamera
from livesr.simulate._demo_controls import (
    DemoFocus,
    DemoShutter,
    DemoXYStage,
    LaserSelector,
    SIMPatternDevice,
)
from livesr.simulate._demo_scene import defocus_factors

__all__ = [
    "DEMO_CFG",
    "DEMO_CHANNELS",
    "DEMO_PATTERN",
    "DemoFocus",
    "DemoShutter",
    "DemoXYStage",
    "LaserSelector",
    "OpticalBus",
    "SIMCamera",
    "SIMPatternDevice",
    "bus",
    "defocus_factors",
]

# UniMMCore reports a Python device's library as its class' __module__ (getDeviceLibrary, and
# so any configuration it saves): keep that the public module the .cfg files name.
for _device in (SIMCamera, SIMPatternDevice, LaserSelector, DemoShutter, DemoXYStage, DemoFocus):
    _device.__module__ = __name__

DEMO_CFG = """\
# livesr demo microscope: a simulated two-colour SIM microscope made of pymmcore-plus Python
# devices (UniMMCore). Load with livesr.acquire.open_core("demo") or open_core(this file).
# Lines starting with '#py ' are UniMMCore's Python extension; plain Micro-Manager ignores them.
Property,Core,Initialize,0
#py pyDevice,Camera,livesr.simulate.devices,SIMCamera
#py pyDevice,Pattern,livesr.simulate.devices,SIMPatternDevice
#py pyDevice,Laser,livesr.simulate.devices,LaserSelector
#py pyDevice,Shutter,livesr.simulate.devices,DemoShutter
#py pyDevice,XY,livesr.simulate.devices,DemoXYStage
#py pyDevice,Z,livesr.simulate.devices,DemoFocus
Property,Core,Initialize,1
#py Property,Core,Camera,Camera
#py Property,Core,Shutter,Shutter
#py Property,Core,XYStage,XY
#py Property,Core,Focus,Z
# UniMMCore 0.18 does not auto-open a shutter around snaps of a Python camera: the demo keeps
# the laser shutter open (AutoShutter off) so software-timed and triggered frames both see light.
#py Property,Core,AutoShutter,0
#py Property,Camera,Exposure,5.0
#py ConfigGroup,Channel,488,Laser,Label,488
#py ConfigGroup,Channel,561,Laser,Label,561
# Pixel size configs are evaluated in C++, which cannot see Python devices: condition on an
# always-true Core property. 0.0626 um matches livesr.config.OpticsConfig.
ConfigPixelSize,Res100x,Core,TimeoutMs,5000
PixelSize_um,Res100x,0.0626
#py Property,Core,ChannelGroup,Channel
"""
