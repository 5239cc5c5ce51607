"""Options shared by every command, parsed once here into typed values."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from autoresearch.errors import UsageError
from autoresearch.sandbox.limits import BUDGET_UNITS
from autoresearch.sandbox.load import MAX_FOREIGN_LOAD
from autoresearch.storage import ENV_VAR, Store, Study
from autoresearch.storage.store import DEFAULT_PATH
from autoresearch.tasks import PreparedData, Task, get_task

CACHE_ENV = "AUTORESEARCH_CACHE"
OFFLINE_ENV = "AUTORESEARCH_OFFLINE"

# Exit codes scripts can rely on.
EXIT_OK = 0
EXIT_CANDIDATE_FAILED = 5
EXIT_NOT_REPRODUCED = 8  # `replay`: the result did not reproduce within the noise
EXIT_INTERRUPTED = 130

StorageOpt = Annotated[str, typer.Option(
    "--storage", envvar=ENV_VAR, help="SQLite store file (or sqlite:///path).",
    show_default=True)]
TaskOpt = Annotated[str | None, typer.Option("--task", "-t", help="Task name (see `tasks`).")]
TrainSecondsOpt = Annotated[float | None, typer.Option(
    "--train-seconds", help="Training budget per seed run, overriding the task's default.")]
SeedsOpt = Annotated[str, typer.Option("--seeds", help="Comma-separated seeds, run in order.")]
MaxExperimentsOpt = Annotated[int, typer.Option(
    "--max-experiments", "-n", min=0, help="Stop when the study holds this many experiments "
    "besides the baseline (a resumed run counts what is already there).")]
CacheOpt = Annotated[Path | None, typer.Option(
    "--cache-dir", envvar=CACHE_ENV,
    help="Where task data is cached (default ~/.cache/autoresearch).")]
OfflineOpt = Annotated[bool, typer.Option(
    "--offline", envvar=OFFLINE_ENV, help="Never try to download data; use offline copies.")]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N or mps.")]
GraceOpt = Annotated[float, typer.Option(
    "--grace", min=1.0, help="Seconds on top of the training budget for start-up and "
    "evaluation before a seed run is killed as a timeout.")]
DEFAULT_GRACE = 120.0
ForeignLoadOpt = Annotated[float, typer.Option(
    "--max-foreign-load", min=0.0, max=1.0, envvar="AUTORESEARCH_MAX_FOREIGN_LOAD",
    help="A seed run whose cores were busier than this with other processes while it trained "
    "(0.25 = a quarter of them) is recorded as interfered and not judged; 1 turns it off.")]
DEFAULT_FOREIGN_LOAD = MAX_FOREIGN_LOAD
BudgetUnitOpt = Annotated[str, typer.Option(
    "--budget-unit", help="What --train-seconds counts: wall (seconds of training) or cpu "
    "(CPU seconds of the training process, all threads: fair on a shared or another machine).")]


def foreign_load_limit(value: float) -> float | None:
    """The JobOptions value of --max-foreign-load: 1 (or more) turns the check off."""
    return None if value >= 1.0 else value


def budget_unit(text: str) -> str:
    if text not in BUDGET_UNITS:
        raise UsageError(f"--budget-unit must be one of {', '.join(BUDGET_UNITS)}, got {text!r}")
    return text

DEFAULT_STORAGE = DEFAULT_PATH
DEFAULT_SEEDS = "42,137"
DEFAULT_MAX_SEEDS = 4
# Screening runs' budget fraction for built-in tasks, whose harness enforces the budget (a
# user's command may ignore a shorter one). bench/search_efficiency.py: screening took the
# offline search's re-scored gain from +0.008 to +0.168 val_bpb at equal compute.
DEFAULT_SCREEN = 0.25


def study_setup(executor: object, kind: str, device: str, unit: str = "wall") -> str:
    """What each run is given, part of the study's identity: the same budget buys another
    result with other threads per run, another device, another executor or another unit."""
    slots = getattr(executor, "slots", None)
    threads = len(slots[0].cpus) if slots and slots[0].cpus else "auto"
    return f"executor={kind} threads={threads} device={device} budget={unit}"


def parse_seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise UsageError(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds needs at least one seed and no repeats, got {text!r}")
    return seeds


def resolve_task(name: str | None) -> Task:
    if not name:
        raise UsageError("pass --task NAME (`autoresearch tasks` lists them), or --project DIR "
                         "for your own training script (`autoresearch init` there once, and "
                         "`autoresearch run` alone works)")
    return get_task(name)


def budget(task: Task, train_seconds: float | None) -> float:
    if train_seconds is None:
        return task.default_budget
    if not train_seconds > 0:
        raise UsageError(f"--train-seconds must be > 0, got {train_seconds:g}")
    return float(train_seconds)


def cache_dir(path: Path | None) -> Path:
    if path is not None:
        return path
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autoresearch"


def prepare(task: Task, cache: Path | None, offline: bool) -> PreparedData:
    return task.prepare(cache_dir(cache), offline)


def store_files(storage: str) -> tuple[Path, ...]:
    """The store's files (database, WAL, shared memory), whether or not it exists yet: what no
    run may see and no project may count as its own."""
    path = Path(str(storage).removeprefix("sqlite:///")).resolve()
    return tuple(Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm"))


def open_store(storage: str, *, create: bool = True) -> Store:
    return Store(storage, create=create)


ProjectDirOpt = Annotated[Path | None, typer.Option(
    "--project", help="A project folder: its studies (same as --task project:PATH).")]


def study_key(task: str | None, project: Path | None) -> tuple[str | None, str | None]:
    """The task name, and for a project named by its path (`--project DIR`, `--task
    project:PATH`) the source its studies were recorded with."""
    if project is not None and task:
        raise UsageError("pass either --task or --project, not both")
    if project is None and task and task.startswith("project:"):
        named = task.split(":", 1)[1]
        if "/" in named or named in (".", "..") or named.startswith("~"):
            project = Path(named).expanduser()
    if project is None:
        return task, None
    root = project.resolve()
    return f"project:{root.name}", f"project {root}"


def pick_study(store: Store, task: str | None, train_seconds: float | None,
               project: Path | None = None) -> Study:
    """The most recent study of the one task the store (or --task / --project) names."""
    task, source = study_key(task, project)
    studies = store.studies(task)
    if source is not None:
        studies = [s for s in studies if s.data_source == source]
    if train_seconds is not None:
        studies = [s for s in studies if s.budget_seconds == train_seconds]
    if not studies:
        where = f" for task {task!r}" if task else ""
        raise UsageError(f"{store.path} holds no study{where}; run `autoresearch run --task "
                         "NAME` first or pass the right --storage")
    tasks = sorted({s.task for s in studies})
    if len(tasks) > 1:
        raise UsageError(f"{store.path} holds several tasks ({', '.join(tasks)}); pass --task")
    return studies[-1]  # the most recent study of that task
