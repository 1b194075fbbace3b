"""Reading back what the ndv live view shows (offscreen there is no OpenGL to render pixels)."""

from __future__ import annotations

import time

import numpy as np

from livesr.preview import PreviewWindow, ensure_app


def same_images(shown: list, expected: list) -> bool:
    return len(shown) == len(expected) and all(
        a is not None and a.shape == b.shape and np.allclose(a, b)
        for a, b in zip(shown, expected, strict=True)
    )


def settle(window: PreviewWindow, wf: list, sr: list) -> tuple[list, list]:
    """Run the event loop until ndv shows `wf` and `sr` (its data requests are asynchronous)
    or a bounded number of rounds passed; returns what it shows."""
    app = ensure_app()
    shown: tuple[list, list] = ([], [])
    for _ in range(300):
        app.processEvents()
        shown = window.displayed()
        if (not wf or same_images(shown[0], wf)) and same_images(shown[1], sr):
            break
        time.sleep(0.01)
    return shown
