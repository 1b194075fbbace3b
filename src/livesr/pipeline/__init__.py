"""The live run: raw SIM frames in, raw and SR time-lapses on disk, signals out.

`LivePipeline` assembles frames into stacks (`StackAssembler`), writes every raw frame
(raw writer), runs one reconstructor per channel off the acquisition thread (an inference
thread or a child process) and writes SR frames to the run store (`livesr.io.SRStore`),
announcing progress through `PipelineSignals` with typed payloads (`StackInfo`,
`SRFrameInfo`, `StackSkipped`, `QualityInfo`). `run_live` is the whole run in one call.
"""

from ._assembler import SIMStack, StackAssembler, stack_key
from ._channel import ChannelReconstructor
from ._pipeline import LivePipeline, PipelineError
from ._quality import QUALITY_THRESHOLDS, QualityWorker, quality_level
from ._reconstructors import build_reconstructors, default_model, parse_model_options
from ._run import run_live
from ._signals import (
    PipelineSignals,
    PipelineSummary,
    QualityInfo,
    QualityLevel,
    SkipReason,
    SRFrameInfo,
    StackInfo,
    StackSkipped,
)

__all__ = [
    "QUALITY_THRESHOLDS",
    "ChannelReconstructor",
    "LivePipeline",
    "PipelineError",
    "PipelineSignals",
    "PipelineSummary",
    "QualityInfo",
    "QualityLevel",
    "QualityWorker",
    "SIMStack",
    "SRFrameInfo",
    "SkipReason",
    "StackAssembler",
    "StackInfo",
    "StackSkipped",
    "build_reconstructors",
    "default_model",
    "parse_model_options",
    "quality_level",
    "run_live",
    "stack_key",
]
