"""The promises livesr keeps when things go wrong, one module each (its docstring says it).

test_overwrite              nothing is deleted that livesr did not create
test_raw_frames_bounded     raw frames reach disk within a bounded lag, in bounded memory
test_kill9                  after kill -9 no SR exists without its raw data
test_signals                Ctrl-C / SIGTERM end a run in seconds, truthfully (130 / 143)
test_clean_exit             a good run exits 0 every time, never through an abort
test_status_truth           finished only when all raw and SR are done; failures never hang
test_fairness               every channel gets live SR when inference falls behind
test_disk_full              a full or read-only disk is one line; nothing written is lost
test_crash_leftovers        what a killed run leaves is found by the next writer
test_orphaned_child         inference children of a dead parent exit quietly
test_cli_errors             bad input is one clear line, before the microscope starts
test_no_code_from_files     no file a user hands livesr is unpickled
test_non_finite_input       NaN / Inf input is refused, never a NaN image
test_memory_bounds          a small file cannot make livesr allocate gigabytes
test_damaged_cache          a damaged cached file is rebuilt

This conftest holds their shared parts: the demo microscope, a live demo run in a child
process, and reconstructors that misbehave on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fault_tools import Faulty


@pytest.fixture
def core() -> Iterator[Any]:
    """The demo microscope at 64x64 px, 1 ms exposure."""
    pytest.importorskip("pymmcore_plus")
    from livesr.acquire import close_core, open_core

    mmc = open_core("demo")
    mmc.setProperty("Camera", "Size", 64)
    mmc.setExposure(1.0)
    yield mmc
    close_core(mmc)


@pytest.fixture
def faulty() -> Callable[..., Faulty]:
    return Faulty
