"""`import livesr` and the CLI entry point must work with the base dependencies alone."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HEAVY = ("torch", "onnxruntime", "tensorrt", "zarr", "pymmcore_plus", "dask", "matplotlib", "qtpy")


def test_import_livesr_does_not_import_heavy_dependencies() -> None:
    code = textwrap.dedent(
        f"""
        import sys
        import livesr, livesr.cli, livesr.optics, livesr.config
        heavy = [m for m in {HEAVY!r} if m in sys.modules]
        print(",".join(heavy))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"importing livesr pulled in heavy modules: {out}"


def test_cli_version() -> None:
    from typer.testing import CliRunner

    from livesr import __version__
    from livesr.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output
