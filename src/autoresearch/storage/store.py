"""SQLite store: WAL mode, one transaction per finished seed run, schema versions from day one.

A `run` killed with kill -9 loses at most the seed run in flight: every finished seed run and
every finished experiment is committed before the next one starts.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from autoresearch.errors import SchemaTooNewError, StorageError
from autoresearch.metric import Direction, Metric
from autoresearch.records import (
    Experiment,
    FailureKind,
    LLMUsage,
    Mode,
    Proposal,
    SeedRun,
    Status,
)
from autoresearch.storage.schema import MIGRATIONS, SCHEMA_VERSION

ENV_VAR = "AUTORESEARCH_STORAGE"
DEFAULT_PATH = "autoresearch.db"


def default_storage() -> str:
    return os.environ.get(ENV_VAR, DEFAULT_PATH)


@dataclass(frozen=True)
class Study:
    id: int
    task: str
    metric: Metric
    budget_seconds: float
    data_hash: str
    data_source: str
    created_at: float
    setup: str = ""  # what a run is given (threads, device, executor); "" in a v1 store


class Store:
    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(str(path).removeprefix("sqlite:///"))
        if not create and not self.path.exists():
            raise StorageError(f"no store at {self.path}; run `autoresearch run` first or pass "
                               "--storage PATH")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot use {self.path} as a store ({exc}); pass --storage with "
                               "a writable path to a .db file") from None
        except OSError as exc:
            raise StorageError(f"cannot open store {self.path}: {exc.strerror}; pass --storage "
                               "with a writable path") from None

    # -- schema -------------------------------------------------------------------------
    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"{self.path} was written by a newer autoresearch (schema {version}, this one "
                f"knows {SCHEMA_VERSION}); upgrade with `pip install -U autoresearch` or use "
                "another --storage"
            )
        if version == SCHEMA_VERSION:
            return
        # A migration may rebuild a table others point at (SQLite's way to change a key):
        # foreign keys are off meanwhile (the pragma is a no-op inside a transaction) and
        # checked before the migration commits.
        self._db.execute("PRAGMA foreign_keys=OFF")
        try:
            for target in range(version + 1, SCHEMA_VERSION + 1):
                with self.transaction():
                    for statement in _statements(MIGRATIONS[target - 1]):
                        self._db.execute(statement)
                    broken = self._db.execute("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StorageError(f"migrating {self.path} to schema {target} broke "
                                           f"{len(broken)} references; the store is unchanged")
                    self._db.execute(f"PRAGMA user_version = {target}")
        finally:
            self._db.execute("PRAGMA foreign_keys=ON")

    @property
    def files(self) -> tuple[Path, ...]:
        """The database and its WAL side files: what a sandboxed run must never see."""
        return tuple(Path(f"{self.path.resolve()}{suffix}") for suffix in ("", "-wal", "-shm"))

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    # -- studies ------------------------------------------------------------------------
    def study(self, task: str, metric: Metric, budget: float, data_hash: str,
              data_source: str, setup: str = "") -> Study:
        """The study for this task, budget, data and setup; created on first use.

        Numbers are compared only within a study: a run given other threads or another device
        buys something else with the same budget. A study from before setups were recorded
        ("") is claimed by the first setup that opens it, so an upgraded store resumes.
        """
        key = "task=? AND budget_seconds=? AND data_hash=?"
        with self.transaction() as db:
            if setup:
                db.execute(f"UPDATE studies SET setup=? WHERE {key} AND setup='' AND NOT "
                           f"EXISTS (SELECT 1 FROM studies WHERE {key} AND setup=?)",
                           (setup, task, budget, data_hash, task, budget, data_hash, setup))
            db.execute(
                "INSERT OR IGNORE INTO studies (task, metric, direction, budget_seconds, "
                "data_hash, data_source, created_at, setup) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (task, metric.name, metric.direction.value, budget, data_hash, data_source,
                 time.time(), setup),
            )
        row = self._db.execute(f"SELECT * FROM studies WHERE {key} AND setup=?",
                               (task, budget, data_hash, setup)).fetchone()
        return _study(row)

    def studies(self, task: str | None = None) -> list[Study]:
        sql, args = "SELECT * FROM studies", ()
        if task is not None:
            sql, args = sql + " WHERE task=?", (task,)
        return [_study(r) for r in self._db.execute(sql + " ORDER BY id", args)]

    # -- experiments --------------------------------------------------------------------
    def add_experiment(self, study: Study, proposal: Proposal, diff: str, seeds: list[int],
                       status: Status = Status.RUNNING) -> Experiment:
        usage = proposal.usage or LLMUsage()
        now = time.time()
        with self.transaction() as db:
            number = db.execute(
                "SELECT COALESCE(MAX(number), -1) + 1 FROM experiments WHERE study_id=?",
                (study.id,),
            ).fetchone()[0]
            cursor = db.execute(
                "INSERT INTO experiments (study_id, number, parent_id, mode, category, "
                "description, hypothesis, proposer, code, diff, knobs_json, status, "
                "seeds_planned, llm_model, input_tokens, output_tokens, cache_write_tokens, "
                "cache_read_tokens, cost_usd, usage_json, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (study.id, number, proposal.parent_id, proposal.mode.value, proposal.category,
                 proposal.description, proposal.hypothesis, proposal.proposer, proposal.code,
                 diff, json.dumps(proposal.knobs), status.value,
                 ",".join(map(str, seeds)), usage.model or None, usage.input_tokens,
                 usage.output_tokens, usage.cache_write_tokens, usage.cache_read_tokens,
                 usage.cost_usd, json.dumps(usage.raw), now),
            )
        return Experiment(id=int(cursor.lastrowid or 0), study_id=study.id, number=number,
                          proposal=proposal, diff=diff, status=status, created_at=now)

    def add_seed_run(self, experiment_id: int, run: SeedRun) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO seed_runs (experiment_id, seed, failure_kind, metric, "
                "test_metric, reason, train_seconds, eval_seconds, startup_seconds, "
                "wall_seconds, peak_rss_mb, steps, loss_curve_json, log_tail, sandbox_json, "
                "extra_json, cpu_share, measurement) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (experiment_id, run.seed, run.failure.value if run.failure else None,
                 run.metric, run.test_metric, run.reason, run.train_seconds, run.eval_seconds,
                 run.startup_seconds, run.wall_seconds, run.peak_rss_mb, run.steps,
                 json.dumps(run.loss_curve), run.log_tail, json.dumps(run.sandbox),
                 json.dumps(run.extra), run.cpu_share, run.measurement),
            )

    def finish_experiment(self, experiment: Experiment) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE experiments SET status=?, failure_kind=?, reason=?, metric_mean=?, "
                "metric_std=?, test_mean=?, finished_at=? WHERE id=?",
                (experiment.status.value,
                 experiment.failure.value if experiment.failure else None, experiment.reason,
                 experiment.metric_mean, experiment.metric_std, experiment.test_mean,
                 experiment.finished_at, experiment.id),
            )

    def experiments(self, study: Study) -> list[Experiment]:
        rows = self._db.execute(
            "SELECT * FROM experiments WHERE study_id=? ORDER BY number", (study.id,)
        ).fetchall()
        runs: dict[int, list[SeedRun]] = {}
        for r in self._db.execute(
            "SELECT s.* FROM seed_runs s JOIN experiments e ON e.id = s.experiment_id "
            "WHERE e.study_id=? ORDER BY s.id", (study.id,)
        ):
            runs.setdefault(r["experiment_id"], []).append(_seed_run(r))
        return [_experiment(r, runs.get(r["id"], [])) for r in rows]

    def experiment_briefs(self, study: Study, *, after: int | None = None,
                          ids: Collection[int] = ()) -> list[Experiment]:
        """Like `experiments`, without code, diff, loss curves, log tails and sandbox notes
        (seed runs keep their `extra`: small numbers such as per-fold scores).

        Those columns are most of the bytes; views listing thousands of experiments (dashboard
        polls) need only the numbers. Use `experiment(id)` for the full record. With `after`,
        only experiments whose id is greater, plus those in `ids`: a finished experiment never
        changes, so a reader refreshes its copy with the new ones and those it saw running.
        """
        where, args = "e.study_id=?", [study.id]
        if after is not None:
            marks = ",".join("?" * len(ids))
            where += f" AND (e.id > ? OR e.id IN ({marks}))"
            args += [after, *ids]
        rows = self._db.execute(
            f"SELECT {_BRIEF_EXPERIMENT} FROM experiments e WHERE {where} ORDER BY e.number",
            args).fetchall()
        runs: dict[int, list[SeedRun]] = {}
        # Plain tuples and a direct constructor: this runs whenever a dashboard sees a change.
        for (experiment_id, seed, failure, metric, test_metric, reason, train, evaluation,
             startup, wall, rss, steps, extra, cpu_share, measurement) in self._db.execute(
            "SELECT s.experiment_id, s.seed, s.failure_kind, s.metric, s.test_metric, s.reason, "
            "s.train_seconds, s.eval_seconds, s.startup_seconds, s.wall_seconds, s.peak_rss_mb, "
            "s.steps, s.extra_json, s.cpu_share, s.measurement FROM seed_runs s JOIN "
            "experiments e "
            f"ON e.id = s.experiment_id WHERE {where} ORDER BY s.id", args
        ).fetchall():
            runs.setdefault(experiment_id, []).append(SeedRun(
                seed=seed, failure=FailureKind(failure) if failure else None, metric=metric,
                test_metric=test_metric, reason=reason, train_seconds=train,
                eval_seconds=evaluation, startup_seconds=startup, wall_seconds=wall,
                peak_rss_mb=rss, steps=steps,
                extra=json.loads(extra) if extra != "{}" else {}, cpu_share=cpu_share,
                measurement=measurement))
        return [_experiment(r, runs.get(r["id"], [])) for r in rows]

    def revision(self, study: Study) -> tuple[int, tuple[tuple[str, int], ...], int]:
        """Changes whenever an experiment, seed run or verdict of the study is written.

        A cache key read from indexes only: (experiments, experiments per status, newest seed
        run id). Seed runs are counted store-wide: a cache of one study then refreshes a
        little more often than needed, never less.
        """
        counts = tuple((str(status), int(n)) for status, n in self._db.execute(
            "SELECT status, COUNT(*) FROM experiments WHERE study_id=? GROUP BY status "
            "ORDER BY status", (study.id,)))
        newest = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM seed_runs").fetchone()[0]
        return sum(n for _, n in counts), counts, int(newest)

    def experiments_with_runs_after(self, study: Study, seed_run_id: int) -> list[int]:
        """Experiments of the study with a seed run newer than `seed_run_id` (re-measured)."""
        return [int(r[0]) for r in self._db.execute(
            "SELECT DISTINCT s.experiment_id FROM seed_runs s JOIN experiments e ON "
            "e.id = s.experiment_id WHERE e.study_id=? AND s.id > ?", (study.id, seed_run_id))]

    def experiment(self, experiment_id: int) -> Experiment | None:
        row = self._db.execute("SELECT * FROM experiments WHERE id=?",
                               (experiment_id,)).fetchone()
        if row is None:
            return None
        runs = [_seed_run(r) for r in self._db.execute(
            "SELECT * FROM seed_runs WHERE experiment_id=? ORDER BY id", (experiment_id,))]
        return _experiment(row, runs)


# The light listing's columns: the heavy text columns read as empty constants, so the same
# row decoder serves both listings.
_BRIEF_EXPERIMENT = (
    "e.id, e.study_id, e.number, e.parent_id, e.mode, e.category, e.description, "
    "e.hypothesis, e.proposer, '' AS code, '' AS diff, e.knobs_json, e.status, "
    "e.failure_kind, e.reason, e.llm_model, e.input_tokens, e.output_tokens, "
    "e.cache_write_tokens, e.cache_read_tokens, e.cost_usd, e.usage_json, e.created_at, "
    "e.finished_at"
)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _study(row: sqlite3.Row) -> Study:
    return Study(id=row["id"], task=row["task"],
                 metric=Metric(row["metric"], Direction(row["direction"])),
                 budget_seconds=row["budget_seconds"], data_hash=row["data_hash"],
                 data_source=row["data_source"], created_at=row["created_at"],
                 setup=row["setup"])


def _seed_run(row: sqlite3.Row) -> SeedRun:
    return SeedRun(
        seed=row["seed"],
        failure=FailureKind(row["failure_kind"]) if row["failure_kind"] else None,
        metric=row["metric"], test_metric=row["test_metric"], reason=row["reason"],
        train_seconds=row["train_seconds"], eval_seconds=row["eval_seconds"],
        startup_seconds=row["startup_seconds"], wall_seconds=row["wall_seconds"],
        peak_rss_mb=row["peak_rss_mb"], steps=row["steps"],
        loss_curve=tuple(tuple(p) for p in json.loads(row["loss_curve_json"])),
        log_tail=row["log_tail"], sandbox=tuple(json.loads(row["sandbox_json"])),
        extra=json.loads(row["extra_json"]), cpu_share=row["cpu_share"],
        measurement=row["measurement"],
    )


def _experiment(row: sqlite3.Row, runs: list[SeedRun]) -> Experiment:
    usage: LLMUsage | None = None
    if row["llm_model"]:
        usage = LLMUsage(model=row["llm_model"], input_tokens=row["input_tokens"],
                         output_tokens=row["output_tokens"],
                         cache_write_tokens=row["cache_write_tokens"],
                         cache_read_tokens=row["cache_read_tokens"], cost_usd=row["cost_usd"],
                         raw=json.loads(row["usage_json"]))
    proposal = Proposal(
        code=row["code"], description=row["description"], category=row["category"],
        mode=Mode(row["mode"]), parent_id=row["parent_id"], proposer=row["proposer"],
        hypothesis=row["hypothesis"], knobs=json.loads(row["knobs_json"]), usage=usage,
    )
    return Experiment(
        id=row["id"], study_id=row["study_id"], number=row["number"], proposal=proposal,
        diff=row["diff"], status=Status(row["status"]),
        failure=FailureKind(row["failure_kind"]) if row["failure_kind"] else None,
        reason=row["reason"], seed_runs=tuple(r for r in runs if r.measurement >= 0),
        created_at=row["created_at"], finished_at=row["finished_at"],
        screens=tuple(r for r in runs if r.measurement < 0),
    )
