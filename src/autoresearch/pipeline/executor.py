"""The tabular Executor: warm table workers (one per core), fed fold by fold.

A seed job is one CV repeat: its folds go on one queue that every worker serves, so a lone
experiment spreads its folds over all the cores and several experiments interleave; each fit
gets one core (threads per fit x parallel fits = cores, OpenMP waiting passively). The parent
scores each fold from the predictions and the labels only it holds, and stops a repeat early
once its folds so far trail the best kept score (`bar`, the engine's) by more than their
noise: a hopeless combo costs two folds, not all of them. A worker that dies fails only the
fold it ran. Workers can start before the table is ready (`load` hands it over): they import
their libraries while the caller prepares it.

The engine asks for a combo's repeats one after another (a bad first repeat spares the rest),
which leaves workers idle at the end of each repeat and puts every repeat and the holdout of
the winning combo on the critical path. So the executor reads ahead: once two folds of a
repeat are not behind the best kept score on average (or nothing is kept yet, as for the
baseline), the folds of the combo's next repeat in `ahead` (after the last, its holdout, on
the first seed as the task asks for it) are queued too, and the engine's request for them gets
the run already under way. A combo that then stops early, fails or ends a repeat behind the
best drops what is still running ahead for it; a repeat the engine never asks for is work
lost, never a result used.
"""

from __future__ import annotations

import itertools
import math
import queue
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autoresearch.pipeline.scoring import PROBA_METRICS, BadPredictions, score
from autoresearch.pipeline.server import Answer, Fold, TableServer, WorkerDied
from autoresearch.pipeline.table import Labelled
from autoresearch.records import FailureKind, SeedRun
from autoresearch.sandbox.limits import Limits

MIN_FOLDS_TO_STOP = 2
STOP_STANDARD_ERRORS = 2.0


@dataclass(frozen=True)
class CVJob:
    """One CV repeat (its seed) of a combo's code; `holdout`: fit on the whole development
    part and predict the sealed holdout instead."""

    code: str
    seed: int
    timeout: float
    holdout: bool = False


@dataclass
class _Run:
    job: CVJob
    future: Future[SeedRun]
    folds: int
    started: float = field(default_factory=time.monotonic)
    scores: dict[int, float] = field(default_factory=dict)
    spent: float = 0.0
    rss: float = 0.0
    done: bool = False
    ahead: bool = False  # read ahead: queued before the engine asked for it


class TabularExecutor:
    """`table`: the features and labels; without it the workers start at once (they import
    their libraries while the caller prepares the table) and `load` hands it over."""

    def __init__(self, table: Labelled | None = None, *, workers: int,
                 cpus: tuple[int, ...] = (), preload: tuple[str, ...] = (),
                 limits: Limits | None = None, hidden: tuple[Path, ...] = (),
                 early_stop: bool = True, ahead: tuple[int, ...] = ()) -> None:
        self.workers, self.early_stop = workers, early_stop
        self.ahead = ahead  # the seeds in the order the engine asks for them (): no read-ahead
        self._options = {"preload": preload, "threads": 1, "limits": limits or Limits(),
                         "hidden": hidden}
        self._cpus = [(c,) for c in cpus] if len(cpus) >= workers else [()] * workers
        # (priority, age, repeat, fold): holdouts asked for first, since a verdict waits on
        # them; then the folds of the oldest experiment (by its code), so that the next repeat
        # of a promising combo does not queue behind every newer combo's first one; its
        # repeats in the engine's order.
        self._queue: queue.PriorityQueue[tuple[float, int, int, int, int, _Run | None]] = \
            queue.PriorityQueue()
        self._order = itertools.count()
        self._age: dict[str, int] = {}
        self._read: dict[tuple[str, int, bool], _Run] = {}  # read ahead, not asked for yet
        self._lock = threading.RLock()
        self.bar: Callable[[], float | None] = lambda: None  # the best kept score so far
        self._splits: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.layers: tuple[str, ...] = ()
        self._loaded, self._stopping = threading.Event(), False
        self._threads = [threading.Thread(target=self._serve, args=(i,), daemon=True,
                                          name=f"table-worker-{i}") for i in range(workers)]
        for thread in self._threads:
            thread.start()
        if table is not None:
            self.load(table)

    def load(self, table: Labelled) -> None:
        """The table the workers fit on (once, before the first job). The folds of the seeds
        read ahead are split now, while the workers finish starting."""
        self.table = table
        self._splits = {seed: table.splits(seed) for seed in self.ahead}
        self._loaded.set()

    # -- the Executor interface ---------------------------------------------------------
    def submit(self, job: CVJob) -> Future[SeedRun]:
        if not self._loaded.is_set():
            raise RuntimeError("TabularExecutor.load(table) comes before the first job")
        with self._lock:
            read = self._read.pop((job.code, job.seed, job.holdout), None)
            if read is not None and read.job != job:  # another time limit: run it as asked
                read.done, read = True, None
        if read is not None:
            return read.future
        return self._enqueue(job, 0 if job.holdout else 1, ahead=False).future

    def shutdown(self) -> None:
        self._stopping = True
        self._loaded.set()  # workers still waiting for a table stop
        for i in range(len(self._threads)):
            self._queue.put((math.inf, i, 0, 0, 0, None))
        for thread in self._threads:
            thread.join(timeout=30)

    def _enqueue(self, job: CVJob, priority: int, ahead: bool) -> _Run:
        run = _Run(job, Future(), 1 if job.holdout else self.table.folds, ahead=ahead)
        repeat = len(self.ahead) if job.holdout or job.seed not in self.ahead \
            else self.ahead.index(job.seed)
        with self._lock:
            age = self._age.setdefault(job.code, next(self._order))
            for i in range(run.folds):
                self._queue.put((priority, age, repeat, i, next(self._order), run))
        return run

    def _behind(self, run: _Run) -> bool:
        bar = self.bar()
        return bar is not None and \
            self.table.metric.gain(statistics.fmean(run.scores.values()), bar) < 0

    def _read_ahead(self, run: _Run) -> None:
        """Queue the combo's next repeat (after the last, its holdout) when this one looks like
        a keep: two folds scored, not behind the best kept score on average. Under the lock."""
        job = run.job
        if job.holdout or job.seed not in self.ahead or len(run.scores) != MIN_FOLDS_TO_STOP \
                or self._behind(run):
            return
        at = self.ahead.index(job.seed) + 1
        after = CVJob(job.code, self.ahead[at], job.timeout) if at < len(self.ahead) else \
            CVJob(job.code, self.ahead[0], job.timeout, holdout=True)
        key = (after.code, after.seed, after.holdout)
        if key not in self._read:
            self._read[key] = self._enqueue(after, 1, ahead=True)

    def _drop_ahead(self, code: str, ending: _Run) -> None:
        """What is still running ahead for a combo that stopped early, failed or ended a repeat
        behind the best: the engine will not ask for it (a finished repeat, and the one ending
        now, stay on offer)."""
        with self._lock:
            for key in [k for k, r in self._read.items()
                        if k[0] == code and r is not ending and not r.future.done()]:
                self._read.pop(key).done = True

    # -- workers ------------------------------------------------------------------------
    def _serve(self, index: int) -> None:
        spawned = self._spawn(index)  # at once: it imports while the table is prepared
        server = spawned[0]
        try:
            self._loaded.wait()
            if self._stopping:
                return
            server, failure = self._load(spawned)
            while True:
                _, _, _, fold, _, run = self._queue.get()
                if run is None:
                    return
                if run.done:
                    continue
                if server is None or not server.alive:
                    if server is not None:
                        server.close()
                    server, failure = self._load(self._spawn(index))
                    if server is None:
                        self._fail(run, Answer(None, "crash", failure))
                        continue
                try:
                    answer = server.fit(self._fold(run.job, fold), self._left(run))
                except WorkerDied as exc:
                    server.close()
                    server = None
                    answer = Answer(None, "crash", str(exc)[:500])
                self._settle(run, fold, answer)
        finally:
            if server is not None:
                server.close()

    def _spawn(self, index: int) -> tuple[TableServer | None, str]:
        try:
            server = TableServer(cpus=self._cpus[index], **self._options)
        except (WorkerDied, OSError) as exc:
            return None, f"the table worker could not start: {exc}"[:500]
        self.layers = server.layers
        return server, ""

    def _load(self, spawned: tuple[TableServer | None, str]) -> tuple[TableServer | None, str]:
        server = spawned[0]
        if server is None:
            return spawned
        try:
            server.load(self.table)
        except WorkerDied as exc:
            server.close()
            return None, f"the table worker could not start: {exc}"[:500]
        return server, ""

    def _left(self, run: _Run) -> float:
        return max(1.0, run.job.timeout - run.spent)

    def _fold(self, job: CVJob, index: int) -> Fold:
        proba = self.table.metric.name in PROBA_METRICS
        if job.holdout:
            n = len(self.table.X_dev)
            return Fold(job.code, job.seed, np.arange(n),
                        np.arange(n, n + len(self.table.X_holdout)), self.table.y_dev, proba,
                        holdout=True)
        with self._lock:
            if job.seed not in self._splits:
                self._splits[job.seed] = self.table.splits(job.seed)
            train, valid = self._splits[job.seed][index]
        return Fold(job.code, job.seed, train, valid, self.table.y_dev[train], proba)

    # -- scoring and verdicts of a repeat ------------------------------------------------
    def _settle(self, run: _Run, fold: int, answer: Answer) -> None:
        if answer.predictions is None:
            return self._fail(run, answer)
        y = self.table.y_holdout if run.job.holdout else \
            self.table.y_dev[self._splits[run.job.seed][fold][1]]
        try:
            value = score(self.table.metric.name, y, answer.predictions,
                          len(self.table.classes))
        except (BadPredictions, ValueError) as exc:
            return self._fail(run, Answer(None, "crash", f"build_model: {exc}"[:500],
                                          "build_model"))
        if not math.isfinite(value):
            return self._fail(run, Answer(None, "divergence",
                                          f"non-finite {self.table.metric.name}"))
        with self._lock:
            if run.done:
                return None
            run.scores[fold] = value
            run.spent += answer.seconds
            run.rss = max(run.rss, answer.peak_rss_mb)
            stop = self._hopeless(run)
            if len(run.scores) < run.folds and not stop:
                self._read_ahead(run)
                return None
            run.done = True
            mean = statistics.fmean(run.scores.values())
            if stop or (not run.job.holdout and self._behind(run)):
                self._drop_ahead(run.job.code, run)
        folds = [run.scores[i] for i in sorted(run.scores)]
        extra: dict[str, Any] = {} if run.job.holdout else {"folds": folds}
        if stop:
            extra["stopped"] = stop
        if run.ahead:
            extra["ahead"] = True
        run.future.set_result(SeedRun(
            seed=run.job.seed, failure=None, metric=mean, train_seconds=run.spent,
            wall_seconds=time.monotonic() - run.started, peak_rss_mb=run.rss,
            sandbox=self.layers, extra=extra))
        return None

    def _hopeless(self, run: _Run) -> str:
        """Why the repeat stops early, or "": its folds so far trail the best kept score by
        more than STOP_STANDARD_ERRORS standard errors (of these folds)."""
        bar = self.bar()
        if not self.early_stop or run.job.holdout or bar is None \
                or len(run.scores) < MIN_FOLDS_TO_STOP or len(run.scores) == run.folds:
            return ""
        values = list(run.scores.values())
        mean = statistics.fmean(values)
        noise = STOP_STANDARD_ERRORS * statistics.stdev(values) / math.sqrt(len(values))
        behind = self.table.metric.gain(bar, mean)
        if behind <= noise:
            return ""
        name = self.table.metric.name
        return (f"stopped after {len(values)} of {run.folds} folds: {name}={mean:.4f} trails "
                f"the best {bar:.4f} by {behind:.4f} (> {noise:.4f})")

    def _fail(self, run: _Run, answer: Answer) -> None:
        with self._lock:
            if run.done:
                return
            run.done = True
            self._drop_ahead(run.job.code, run)
        kind = FailureKind(answer.failure) if answer.failure in FailureKind._value2member_map_ \
            else FailureKind.CRASH
        extra = {"slot": answer.slot} if answer.slot else {}
        run.future.set_result(SeedRun(
            seed=run.job.seed, failure=kind, reason=answer.reason, log_tail=answer.log,
            train_seconds=run.spent + answer.seconds, peak_rss_mb=answer.peak_rss_mb,
            wall_seconds=time.monotonic() - run.started, sandbox=self.layers, extra=extra))
