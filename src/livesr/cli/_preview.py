"""``livesr preview``: watch a finished or growing run store (window or headless PNGs)."""

# typer reads annotations at runtime, so no `from __future__ import annotations` here.
import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._app import app


@app.command()
def preview(
    store: Annotated[Path, typer.Argument(help="Run store (*.zarr), finished or growing.")],
    sr: Annotated[str, typer.Option(help="SR image to show: sr or sr_<model>.")] = "sr",
    position: Annotated[
        int, typer.Option("--position", "-p", min=0, help="Stage position (series) to show.")
    ] = 0,
    z: Annotated[
        Optional[int], typer.Option(min=0, help="Z plane to show (default: the middle one).")
    ] = None,
    headless: Annotated[
        bool, typer.Option(help="No window: write composite PNG snapshots next to the store.")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between headless snapshots.")
    ] = 10.0,
    out: Annotated[
        Optional[Path], typer.Option(help="Snapshot folder (default: <run>.preview/).")
    ] = None,
    once: Annotated[bool, typer.Option(help="Headless: write one snapshot and exit.")] = False,
    ndv: Annotated[
        bool, typer.Option(help="Open the SR image in ndv (needs OpenGL) instead.")
    ] = False,
    qc_overlay: Annotated[
        bool, typer.Option(help="Start with the quality error maps in red over the SR.")
    ] = False,
) -> None:
    """Show the newest wide-field and SR images of a run, following it while it grows."""
    from livesr.preview import PreviewFeed, SnapshotWriter, StoreWatcher, snapshot_dir
    from livesr.preview._feed import LiveStatus

    if not store.exists():
        raise typer.BadParameter(f"no run store at {store}", param_hint="STORE")
    feed = PreviewFeed()
    try:
        watcher = StoreWatcher(
            store, feed, sr_name=sr, position=position, z=z, poll_interval_s=min(interval, 1.0)
        )
    except (KeyError, ValueError, IndexError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    if ndv:
        _open_in_ndv(store, sr, position)
        return
    if headless:
        folder = out or snapshot_dir(store)
        writer = SnapshotWriter(feed, folder, interval_s=interval, qc_overlay=qc_overlay)
        typer.echo(f"writing snapshots of {store} to {folder} every {interval:g} s (Ctrl-C stops)")
        try:
            while True:
                watcher.poll(force=True)
                path = writer.write_now()
                if path is not None:
                    # The status exactly as status.json records it (one SR-rate definition:
                    # the feed's rate when the snapshot was taken, not a second later).
                    status = json.loads((folder / "status.json").read_text())
                    typer.echo(f"  {LiveStatus.from_dict(status).text()} -> {path}")
                if once or feed.status().finished:
                    break
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
        return

    from livesr.preview import PreviewWindow, display_available, ensure_app

    if not display_available():
        typer.echo(
            "error: no display or Qt binding here; use --headless for PNG snapshots, or "
            "pip install 'livesr[viewer]'",
            err=True,
        )
        raise typer.Exit(2)
    app_ = ensure_app()

    def poll() -> None:
        if watcher.poll():
            window.set_time_range(watcher.n_timepoints)  # the run may have grown

    window = PreviewWindow(
        feed, title=f"livesr preview: {store.name}", poll=poll, seek=watcher.show,
        qc_overlay=qc_overlay,
    )  # fmt: skip
    watcher.poll(force=True)
    window.set_time_range(watcher.n_timepoints)
    window.show()
    app_.exec()


def _open_in_ndv(store: Path, sr: str, position: int) -> None:
    """Ndv's viewer on a position's SR image (t, c, z, y, x): channel composite, sliders."""
    try:
        import ndv
    except ImportError:
        typer.echo("error: ndv is not installed: pip install 'livesr[viewer]'", err=True)
        raise typer.Exit(2) from None
    from livesr.io import open_store

    array = open_store(store).sr_array(sr, position)
    ndv.imshow(array, channel_axis=1, channel_mode="composite")
