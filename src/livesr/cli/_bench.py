"""``livesr bench``: run the benchmark parts in ``livesr.bench`` and print tables + JSON."""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
import importlib
import inspect
import json
import math
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ._app import app

# Flags that switch on a part, by part name (module livesr.bench._<part>).
_PART_FLAGS = ("wiener", "simulate", "pipeline", "qc")


def _split(text: Optional[str]) -> Optional[list[str]]:
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


def _ints(text: Optional[str], option: str) -> Optional[list[int]]:
    items = _split(text)
    if items is None:
        return None
    try:
        return [int(item) for item in items]
    except ValueError:
        raise typer.BadParameter(
            f"{option} takes comma-separated integers, got {text!r}"
        ) from None


def available_parts() -> list[str]:
    """Names of the benchmark parts present (``livesr/bench/_<part>.py``)."""
    import livesr.bench

    return sorted(
        info.name[1:]
        for info in pkgutil.iter_modules(livesr.bench.__path__)
        if info.name.startswith("_") and not info.name.startswith("__")
    )


def _run_part(part: str, options: dict[str, Any]) -> list[dict[str, Any]]:
    module = importlib.import_module(f"livesr.bench._{part}")
    func = getattr(module, f"bench_{part}", None)
    if func is None:
        raise typer.BadParameter(f"livesr.bench._{part} has no bench_{part} function")
    accepted = inspect.signature(func).parameters
    kwargs = {k: v for k, v in options.items() if k in accepted and v is not None}
    rows: list[dict[str, Any]] = func(**kwargs)
    return rows


def _load_avg() -> Optional[list[float]]:
    # Windows has no load average.
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _machine() -> dict[str, Any]:
    from livesr._host import usable_cores

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus_usable": usable_cores(),
        # Figures from a shared host are only comparable with the load they ran under.
        "load_avg_start": _load_avg(),
        "command": "livesr " + " ".join(sys.argv[1:]),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for pkg in ("livesr", "torch", "onnxruntime", "tensorrt", "numpy"):
        try:
            info[pkg] = importlib.import_module(pkg).__version__
        except Exception:  # noqa: PERF203 - a missing optional package is just not reported
            continue
    return info


def _cell(value: Any) -> str:
    """A table cell: floats to 4 significant digits (the JSON keeps them in full)."""
    if isinstance(value, float) and math.isfinite(value) and value != 0:
        digits = max(0, 3 - math.floor(math.log10(abs(value))))
        return f"{value:.{digits}f}"
    return str(value)


def _print_table(part: str, rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    table = Table(title=f"livesr bench: {part}", show_lines=False)
    for column in columns:
        table.add_column(column, no_wrap=column != "error")
    for row in rows:
        table.add_row(*(_cell(row.get(c, "")) for c in columns))
    console = Console()
    if not console.is_terminal:
        # Piped into a file or log: do not squeeze the table into 80 columns.
        console = Console(width=240)
    console.print(table)


@app.command()
def bench(
    models: Annotated[
        Optional[str],
        typer.Option(help="Comma-separated architectures, bundled weights or .safetensors."),
    ] = None,
    backends: Annotated[
        Optional[str],
        typer.Option(help="Comma-separated backends, e.g. torch,onnxruntime (-cpu/-cuda ok)."),
    ] = None,
    sizes: Annotated[
        Optional[str], typer.Option(help="Comma-separated square frame sizes, e.g. 128,256.")
    ] = None,
    batch: Annotated[
        Optional[str], typer.Option(help="Comma-separated batch sizes, e.g. 1,4.")
    ] = None,
    wiener: Annotated[bool, typer.Option(help="Time the cached Wiener SIM path.")] = False,
    simulate: Annotated[bool, typer.Option(help="Time the SIM simulator.")] = False,
    pipeline: Annotated[bool, typer.Option(help="Time the live pipeline end to end.")] = False,
    qc: Annotated[bool, typer.Option(help="Time the per-frame quality record.")] = False,
    inference: Annotated[
        Optional[str],
        typer.Option(help="--pipeline: comma-separated inference modes (auto,process,thread)."),
    ] = None,
    qc_every: Annotated[
        Optional[str],
        typer.Option(
            help="--pipeline: comma-separated PipelineConfig.qc_every values, a row each "
            "(0: live quality checks off, 1: every SR frame; default 1). '0,1' compares."
        ),
    ] = None,
    part: Annotated[
        Optional[list[str]], typer.Option(help="Run another part by name (repeatable).")
    ] = None,
    all_parts: Annotated[
        bool, typer.Option("--all", help="Run every benchmark part (slow).")
    ] = False,
    repeats: Annotated[Optional[int], typer.Option(min=1, help="Timed repeats.")] = None,
    timepoints: Annotated[
        Optional[int],
        typer.Option(
            min=1,
            help="--pipeline: time points per run (2000 at --sizes 64 with one position and "
            "z plane: the raw-lag and memory run of docs/benchmarks.md).",
        ),
    ] = None,
    positions: Annotated[
        Optional[int],
        typer.Option(min=1, help="--pipeline: stage positions per time point (default 2)."),
    ] = None,
    z_planes: Annotated[
        Optional[int], typer.Option(min=1, help="--pipeline: z planes per position (default 3).")
    ] = None,
    threads: Annotated[
        Optional[int], typer.Option(min=1, help="CPU threads (default: all usable cores).")
    ] = None,
    json_file: Annotated[
        Optional[Path], typer.Option("--json", help="Also write all rows to this JSON file.")
    ] = None,
) -> None:
    """Benchmark backends (latency, SR frames/s, FLOP/s vs peak) and other parts.

    Without part flags: DFCAN 9x128x128 on torch and ONNX Runtime at batch 1 and 2, plus the
    Wiener path when available. ``--models dfcan,dfgan`` alone compares the networks
    (parameters, FLOPs per frame, fft/dft/tiled spectrum latency); with ``--backends`` it
    times those models on each backend. Part flags (--wiener, --simulate, --pipeline,
    --qc, --part NAME) run those parts only (add --backends to time backends too); --models,
    --sizes, --batch and --repeats go to every part that takes them.
    """
    present = available_parts()
    chosen = [
        name for name, on in zip(_PART_FLAGS, (wiener, simulate, pipeline, qc), strict=True) if on
    ]
    chosen += list(part or [])
    if all_parts:
        chosen = list(present)
    elif not chosen and models is not None and backends is None:
        # `livesr bench --models dfcan,dfgan`: the networks themselves (parameters, FLOPs per
        # frame, fft vs dft vs tiled spectrum latency); with --backends they run on backends.
        chosen = ["models"]
    elif not chosen:
        # The quick default: backends side by side, plus the cached Wiener path if present
        # (unless backends were named: then the user asked for backends only).
        chosen = ["backends"]
        if backends is None and "wiener" in present:
            chosen.append("wiener")
    elif backends is not None:
        chosen.insert(0, "backends")
    missing = [p for p in chosen if p not in present]
    if missing:
        typer.echo(
            f"benchmark part(s) {', '.join(missing)} not available in this install "
            f"(present: {', '.join(present)})",
            err=True,
        )
        raise typer.Exit(2)
    options = {
        "models": _split(models),
        "backends": _split(backends),
        "sizes": _ints(sizes, "--sizes"),
        "batch": _ints(batch, "--batch"),
        "repeats": repeats,
        "timepoints": timepoints,
        "positions": positions,
        "z_planes": z_planes,
        "threads": threads,
        "inference_modes": _split(inference),
        "qc_every": _ints(qc_every, "--qc-every"),
    }
    from livesr._host import host_tuning
    from livesr.config import HostTuning

    report: dict[str, Any] = {"machine": _machine(), "parts": {}}
    # Measured as the livesr commands run (docs/benchmarks.md): the process is ours.
    with host_tuning(HostTuning.application(torch_threads=threads)):
        for name in dict.fromkeys(chosen):
            typer.echo(f"running bench part {name!r} ...", err=True)
            rows = _run_part(name, options)
            report["parts"][name] = rows
            _print_table(name, rows)
    report["machine"]["load_avg_end"] = _load_avg()
    if json_file is not None:
        json_file.write_text(json.dumps(report, indent=2, default=str) + "\n")
        typer.echo(f"wrote {json_file}", err=True)
