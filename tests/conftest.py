from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# `../shared/data` next to the repository, or next to the folder of git worktrees;
# $LIVESR_SHARED_DATA overrides.
_CANDIDATES = [Path(__file__).resolve().parents[i] / "shared" / "data" for i in (2, 3)]
SHARED_DATA = Path(
    os.environ.get("LIVESR_SHARED_DATA")
    or next((c for c in _CANDIDATES if c.is_dir()), _CANDIDATES[0])
)


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


#: Test folders that make Qt widgets (ndv viewers, the MDA panel).
_QT_DIRS = ("gui", "preview")


def _makes_qt_widgets(item: pytest.Item) -> bool:
    parts = Path(str(item.fspath)).parts
    return any(d in parts for d in _QT_DIRS) or "qt" in Path(str(item.fspath)).stem


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Qt widget tests run last: a Qt object whose last reference drops on another thread (a
    # zarr or tensorstore worker collecting garbage) is destroyed off the GUI thread, which
    # can crash the whole run; seen once in a clean-clone run right after the GUI tests.
    items.sort(key=_makes_qt_widgets)
    # `gpu` tests are skipped, never failed, on machines without CUDA.
    if _cuda_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(autouse=True)
def _qt_objects_die_on_the_main_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    # Collect a Qt test's garbage here, on the GUI (main) thread, not later on a worker's.
    yield
    if _makes_qt_widgets(request.node):
        import gc

        gc.collect()


@pytest.fixture(autouse=True)
def _isolated_backend_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No test picks its backend from the developer's shell or writes the user's engine cache.
    monkeypatch.delenv("LIVESR_BACKEND", raising=False)
    monkeypatch.setenv("LIVESR_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real SIM data sets next to the repository (`../shared/data`)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
