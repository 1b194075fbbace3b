"""The held-out evaluation: an unseen microscope, photometric metrics, tuned Wiener."""

from __future__ import annotations

from pathlib import Path

from livesr.evaluate._heldout import (
    HELD_OUT_OPTICS,
    heldout_rows,
    heldout_summary,
    write_heldout_markdown,
)


def test_heldout_rows_score_every_method_photometrically(tmp_path: Path) -> None:
    assert abs(HELD_OUT_OPTICS.cutoff_per_um() * HELD_OUT_OPTICS.pixel_size_um - 0.32) < 1e-6
    rows = heldout_rows(("wf", "rl", "wiener", "wiener-tuned"), photons=(20.0,),
                        structures=("microtubules",), fields=1, size=64,
                        resolution=False)  # fmt: skip
    assert [r["method"] for r in rows] == ["wf", "rl", "wiener", "wiener-tuned"]
    by = {r["method"]: r for r in rows}
    assert by["wiener-tuned"]["corr"] >= max(by["wiener"]["corr"], 0.0) - 0.02
    assert by["wiener"]["corr"] > by["wf"]["corr"]
    assert all(0 < r["nrmse_photometric"] < 1 for r in rows)
    md = write_heldout_markdown(heldout_summary(rows), tmp_path / "h.md").read_text()
    assert md.index("Pearson") < md.index("NRMSE") and "| 20 |" in md
