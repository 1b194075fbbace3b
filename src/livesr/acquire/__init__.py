"""Live SIM acquisition with pymmcore-plus: SIM events, stack assembly, the live SR pipeline.

Data flow: `sim_events` expands a useq.MDASequence into one event per pattern frame; the
pymmcore-plus MDA engine runs them (as hardware-sequenced bursts where the devices allow);
`LivePipeline` assembles frames into stacks (`StackAssembler`), writes every raw frame, runs
one reconstructor per channel on its own thread and writes SR frames to the run store
(`livesr.io.SRStore`), announcing progress through `PipelineSignals`.
"""

from ._assembler import SIMStack, StackAssembler, stack_key
from ._core import open_core
from ._events import SIM_KEYS, pattern_index, pattern_label, sim_events
from ._models import build_reconstructors, default_model, parse_model_options
from ._pipeline import LivePipeline, PipelineError
from ._run import run_live
from ._signals import PipelineSignals, PipelineSummary
from ._worker import ChannelReconstructor

__all__ = [
    "SIM_KEYS",
    "ChannelReconstructor",
    "LivePipeline",
    "PipelineError",
    "PipelineSignals",
    "PipelineSummary",
    "SIMStack",
    "StackAssembler",
    "build_reconstructors",
    "default_model",
    "open_core",
    "parse_model_options",
    "pattern_index",
    "pattern_label",
    "run_live",
    "sim_events",
    "stack_key",
]
