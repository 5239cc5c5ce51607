"""Reading one study out of the store for a request: which study, and its derived views.

An open page polls several partials every few seconds, and a store of thousands of experiments
takes a few hundred milliseconds to list and summarise; so the derived views of a study are
kept while the store's revision of that study is unchanged, and rebuilt once per change.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

from autoresearch.analysis.study import Summary, summarize
from autoresearch.records import Experiment
from autoresearch.storage import Store, Study
from autoresearch.ui.dashboard import views


class NotFound(LookupError):
    """A study or experiment named in the URL is not in the store (answered with 404)."""


def pick_study(studies: list[Study], study_id: int | None, task: str | None) -> Study | None:
    """The study asked for by id; else the newest of `task` (or of any task); None if empty."""
    if study_id is not None:
        for study in studies:
            if study.id == study_id:
                return study
        raise NotFound(f"no study {study_id} in this store")
    preferred = [s for s in studies if s.task == task] if task else []
    pool = preferred or studies
    return max(pool, key=lambda s: s.created_at) if pool else None


class StudyData:
    """The light listing of one study and what every page derives from it, computed once."""

    def __init__(self, study: Study, experiments: list[Experiment],
                 previous: StudyData | None = None, changed: frozenset[int] = frozenset()) -> None:
        self.study = study
        self.experiments = experiments
        # Rows of experiments that did not change are reused from the previous listing.
        self._previous = previous
        self._changed = changed
        self._tables: dict[views.TableQuery, views.TablePage] = {}
        self._tables_lock = threading.Lock()

    @classmethod
    def load(cls, store: Store, study: Study) -> StudyData:
        return cls(study, store.experiment_briefs(study))

    def refreshed(self, store: Store, seen_run: int) -> StudyData:
        """The new experiments, those that were still running and those with seed runs newer
        than `seen_run`, merged into this listing.

        A verdict never changes (the store writes it last); a finished experiment gains runs
        only when it is measured again (a winner, an incumbent, a retried one), so nothing
        else needs reading again.
        """
        running = [e.id for e in self.experiments if not e.status.finished]
        remeasured = store.experiments_with_runs_after(self.study, seen_run)
        newest = max((e.id for e in self.experiments), default=0)
        changed = store.experiment_briefs(self.study, after=newest, ids=[*running, *remeasured])
        merged = {e.id: e for e in self.experiments}
        merged.update((e.id, e) for e in changed)
        experiments = sorted(merged.values(), key=lambda e: e.number)
        return StudyData(self.study, experiments, self, frozenset(e.id for e in changed))

    @cached_property
    def summary(self) -> Summary:
        return summarize(self.experiments, self.study.metric)

    @property
    def baseline_value(self) -> float | None:
        baseline = self.summary.baseline
        return baseline.metric_mean if baseline is not None else None

    @cached_property
    def rows(self) -> list[views.Row]:
        metric, baseline = self.study.metric, self.baseline_value
        previous = self._previous
        if previous is None or previous.baseline_value != baseline:
            return views.rows(self.experiments, metric, baseline)
        experiments = {e.id: e for e in self.experiments}
        old = previous.by_id
        return [old[e.id] if e.id in old and e.id not in self._changed
                else views.row(e, metric, baseline, experiments) for e in self.experiments]

    @cached_property
    def by_id(self) -> dict[int, views.Row]:
        return {r.id: r for r in self.rows}

    @cached_property
    def chart(self) -> dict[str, object]:
        return views.chart(self.rows, self.experiments, self.study.metric)

    @cached_property
    def chart_json(self) -> bytes:
        """Serialised once per change: thousands of points are most of a poll's work."""
        return json.dumps(self.chart, separators=(",", ":")).encode()

    @cached_property
    def knobs(self) -> list[views.KnobView]:
        return views.knobs(self.experiments, self.study.metric)

    @cached_property
    def pipeline(self) -> views.PipelineView | None:
        return views.pipeline(self.experiments, self.study.metric)

    @cached_property
    def ids(self) -> dict[int, int]:
        """Experiment number -> id, for links from analyses that speak in numbers."""
        return {r.number: r.id for r in self.rows}

    def table(self, query: views.TableQuery) -> views.TablePage:
        # Each open page polls its own view of the table; keep the last few.
        with self._tables_lock:
            page = self._tables.get(query)
        if page is None:
            page = views.table(self.rows, query, self.study.metric)
            with self._tables_lock:
                if len(self._tables) >= 32:
                    self._tables.pop(next(iter(self._tables)))
                self._tables[query] = page
        return page

    def tree(self, kept_only: bool) -> list[views.TreeRow]:
        best = self.summary.best
        return views.tree(self.rows, self.experiments, best.id if best else None, kept_only)

    def warm(self) -> StudyData:
        """Compute what every poll needs now, once, instead of in each concurrent request.

        The chart is left to its own request: it is the largest piece, and only one of a
        page's polls needs it."""
        _ = self.rows, self.by_id
        self._previous = None  # let the previous listing be freed
        return self


@dataclass
class _Entry:
    lock: threading.Lock
    revision: tuple[int, tuple[tuple[str, int], ...], int] | None = None
    data: StudyData | None = None


class StudyCache:
    """The latest StudyData per study, reused while `Store.revision` of the study is unchanged.

    Never stale: the revision is read before the listing, so a write landing in between makes
    the next request refresh again. One refresh at a time per study; concurrent polls wait.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, _Entry] = OrderedDict()

    def get(self, store: Store, study: Study) -> StudyData:
        with self._lock:
            entry = self._entries.setdefault(study.id, _Entry(threading.Lock()))
            self._entries.move_to_end(study.id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        with entry.lock:
            revision = store.revision(study)
            if entry.data is not None and entry.data.study == study \
                    and entry.revision == revision:
                return entry.data
            data = None
            if entry.data is not None and entry.data.study == study:
                data = entry.data.refreshed(store, entry.revision[2] if entry.revision else 0)
            if data is None or len(data.experiments) < revision[0]:
                data = StudyData.load(store, study)  # first read, or the store was replaced
            entry.data, entry.revision = data.warm(), revision
            return data
