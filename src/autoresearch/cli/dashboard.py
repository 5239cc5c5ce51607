"""`dashboard`: serve the live web view of a store until interrupted."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from autoresearch.cli import _common as c
from autoresearch.errors import UsageError

console = Console()
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501


def dashboard(
    task: c.TaskOpt = None,
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    project: c.ProjectDirOpt = None,
    host: Annotated[str, typer.Option(
        "--host", help="Address to bind. Anything but loopback exposes every experiment's "
        "code and logs to the network, without authentication.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", "-p", min=1, max=65535)] = DEFAULT_PORT,
    refresh: Annotated[float, typer.Option(
        "--refresh", min=0.5, help="Seconds between live updates of an open page.")] = 5.0,
) -> None:
    """Live web dashboard of the store: stats, experiments, progression, lineage (read-only)."""
    # Imported here: FastAPI takes most of a second to import, which every other command
    # would otherwise pay.
    from autoresearch.ui.dashboard import is_loopback, serve

    task, _ = c.study_key(task, project)
    store = c.open_store(storage, create=False)
    try:
        tasks = sorted({s.task for s in store.studies()})
        path = store.path
    finally:
        store.close()
    if task and tasks and task not in tasks:
        raise UsageError(f"{path} holds no study for task {task!r} (it has: "
                         f"{', '.join(tasks)}); pass one of those or another --storage")
    if not is_loopback(host):
        Console(stderr=True).print(
            f"[bold yellow]warning:[/] binding {host}: the dashboard has no authentication; "
            "anyone who can reach this port can read every experiment's code and logs",
            highlight=False)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"dashboard of {path} at http://{shown}:{port}  (Ctrl+C to stop)",
                  highlight=False)
    serve(path, host=host, port=port, task=task, refresh_seconds=refresh)  # until Ctrl+C
    console.print("dashboard stopped")
