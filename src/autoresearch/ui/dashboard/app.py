"""The dashboard's HTTP surface: full pages, htmx partials and their JSON twins.

Read-only: each request opens its own connection, so a page reads what a running `run` has
committed so far (WAL lets readers and the writer proceed together).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from autoresearch.errors import StorageError
from autoresearch.records import Experiment, Status
from autoresearch.storage import Store, Study
from autoresearch.ui.dashboard import highlight, views
from autoresearch.ui.dashboard.data import NotFound, StudyCache, StudyData, pick_study
from autoresearch.ui.dashboard.rendering import render

# Inline <script> is never needed (data travels as JSON in non-executable script tags), so
# even an escaping bug could not run injected code.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'")


LINEAGE_ALL = 1000  # above this many experiments, the lineage opens on kept ones only
CHILDREN_SHOWN = 50


@dataclass(frozen=True)
class Settings:
    storage: Path
    task: str | None = None  # preferred when the store holds several tasks
    refresh_seconds: float = 5.0


def open_store(request: Request) -> Iterator[Store]:
    store = Store(request.app.state.settings.storage, create=False)
    try:
        yield store
    finally:
        store.close()


def table_query(status: str = "", category: str = "", mode: str = "", sort: str = "number",
                order: str = "desc", page: int = 1) -> views.TableQuery:
    return views.TableQuery.parse(status, category, mode, sort, order, page)


StoreDep = Annotated[Store, Depends(open_store)]
StudyParam = Annotated[int | None, Query(alias="study")]
TableQueryDep = Annotated[views.TableQuery, Depends(table_query)]


def create_app(storage: str | Path, task: str | None = None,
               refresh_seconds: float = 5.0) -> FastAPI:
    settings = Settings(Path(str(storage).removeprefix("sqlite:///")), task, refresh_seconds)
    app = FastAPI(title="autoresearch dashboard", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    cache = StudyCache()
    app.mount("/static", StaticFiles(packages=[("autoresearch.ui.dashboard", "static")]),
              name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.exception_handler(NotFound)
    def not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(StorageError)
    def storage_error(request: Request, exc: StorageError) -> Response:
        return _error(request, 503, str(exc))

    def page(store: Store, study_id: int | None) -> tuple[list[Study], StudyData | None]:
        studies = store.studies()
        study = pick_study(studies, study_id, settings.task)
        return studies, cache.get(store, study) if study else None

    def base(studies: list[Study], data: StudyData | None, **extra: Any) -> dict[str, Any]:
        return {"studies": studies, "study": data.study if data else None,
                "refresh": settings.refresh_seconds, "storage": str(settings.storage),
                "now": time.time(), **extra}

    # -- main view ----------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def index(store: StoreDep, query: TableQueryDep, study: StudyParam = None) -> str:
        studies, data = page(store, study)
        return render("index.html.j2", **base(
            studies, data, summary=data.summary if data else None,
            table=data.table(query) if data else None))

    @app.get("/partials/stats", response_class=HTMLResponse)
    def stats_partial(store: StoreDep, study: StudyParam = None) -> str:
        studies, data = page(store, study)
        return render("_stats.html.j2", **base(studies, data,
                                               summary=data.summary if data else None))

    @app.get("/partials/table", response_class=HTMLResponse)
    def table_partial(store: StoreDep, query: TableQueryDep, study: StudyParam = None) -> str:
        studies, data = page(store, study)
        return render("_table.html.j2", **base(studies, data,
                                               table=data.table(query) if data else None))

    # -- JSON -----------------------------------------------------------------------------
    @app.get("/api/summary")
    def summary_json(store: StoreDep, study: StudyParam = None) -> JSONResponse:
        _, data = page(store, study)
        if data is None:
            return JSONResponse({"study": None})
        s = data.summary
        return JSONResponse({
            "study": _study_json(data.study), "experiments": s.experiments, "kept": s.kept,
            "running": s.running, "failures": s.failures,
            "baseline": data.baseline_value,
            "best": s.best.metric_mean if s.best else None,
            "best_number": s.best.number if s.best else None, "gain": s.gain,
            "cost_usd": s.cost_usd, "per_hour": s.per_hour,
            "last_result_at": s.last_result_at,
            "noise_sd": s.noise.sd, "noise_dof": s.noise.dof,
        })

    @app.get("/api/experiments")
    def experiments_json(store: StoreDep, query: TableQueryDep,
                         study: StudyParam = None) -> JSONResponse:
        _, data = page(store, study)
        if data is None:
            return JSONResponse({"study": None, "rows": []})
        table = data.table(query)
        return JSONResponse({"study": _study_json(data.study), "total": table.total,
                             "matching": table.matching, "page": table.page,
                             "pages": table.pages, "rows": [r.as_json() for r in table.rows]})

    @app.get("/api/chart")
    def chart_json(store: StoreDep, study: StudyParam = None) -> Response:
        _, data = page(store, study)
        if data is None:
            return JSONResponse({"points": [], "failed": [], "best": []})
        return Response(data.chart_json, media_type="application/json")

    # -- one experiment -------------------------------------------------------------------
    def detail(store: Store, experiment_id: int) -> dict[str, Any]:
        experiment = store.experiment(experiment_id)
        if experiment is None:
            raise NotFound(f"no experiment with id {experiment_id} in this store")
        studies = store.studies()
        study = pick_study(studies, experiment.study_id, None)
        assert study is not None
        # The listing is read after the experiment, so it always includes it.
        data = cache.get(store, study)
        row = data.by_id[experiment.id]
        return base(studies, data, experiment=experiment, row=row,
                    metric=study.metric, baseline=data.baseline_value,
                    parent=data.by_id.get(experiment.proposal.parent_id or -1),
                    children=[r for r in data.rows if r.parent_id == experiment.id],
                    children_shown=CHILDREN_SHOWN,
                    code=highlight.code(experiment.code),
                    diff=highlight.diff(experiment.diff) if experiment.diff else None,
                    curves=_curves(experiment), live=not experiment.status.finished)

    @app.get("/experiments/{experiment_id}", response_class=HTMLResponse)
    def experiment_page(store: StoreDep, experiment_id: int) -> str:
        return render("experiment.html.j2", **detail(store, experiment_id))

    @app.get("/partials/experiments/{experiment_id}", response_class=HTMLResponse)
    def experiment_partial(store: StoreDep, experiment_id: int) -> str:
        return render("_experiment.html.j2", **detail(store, experiment_id))

    @app.get("/api/experiments/{experiment_id}")
    def experiment_json(store: StoreDep, experiment_id: int) -> JSONResponse:
        experiment = store.experiment(experiment_id)
        if experiment is None:
            raise NotFound(f"no experiment with id {experiment_id} in this store")
        return JSONResponse(_experiment_json(experiment))

    # -- lineage and knobs ----------------------------------------------------------------
    @app.get("/lineage", response_class=HTMLResponse)
    def lineage_page(store: StoreDep, study: StudyParam = None,
                     kept: bool | None = None) -> str:
        studies, data = page(store, study)
        # Thousands of rows make a page of megabytes: large studies open on the kept tree.
        kept_only = kept if kept is not None else bool(data and len(data.rows) > LINEAGE_ALL)
        return render("lineage.html.j2", **base(
            studies, data, kept_only=kept_only, tree=data.tree(kept_only) if data else []))

    @app.get("/knobs", response_class=HTMLResponse)
    def knobs_page(store: StoreDep, study: StudyParam = None) -> str:
        studies, data = page(store, study)
        return render("knobs.html.j2", **base(
            studies, data, knobs=data.knobs if data else [],
            pipeline=data.pipeline if data else None, ids=data.ids if data else {}))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness without touching the store (for scripts that wait for the server)."""
        return {"status": "ok"}

    @app.get("/highlight.css")
    def highlight_css() -> Response:
        return Response(highlight.stylesheet(), media_type="text/css")

    return app


def _error(request: Request, status_code: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status_code)
    return HTMLResponse(render("error.html.j2", message=message, status_code=status_code),
                        status_code=status_code)


def _study_json(study: Study) -> dict[str, Any]:
    return {"id": study.id, "task": study.task, "metric": study.metric.name,
            "direction": study.metric.direction.value, "budget_seconds": study.budget_seconds,
            "data_hash": study.data_hash}


def _curves(experiment: Experiment) -> list[dict[str, Any]]:
    return [{"seed": r.seed, "points": [{"x": step, "y": loss} for step, loss in r.loss_curve]}
            for r in experiment.seed_runs if r.loss_curve]


def _experiment_json(e: Experiment) -> dict[str, Any]:
    p = e.proposal
    return {
        "id": e.id, "study_id": e.study_id, "number": e.number, "status": e.status.value,
        "failure": e.failure.value if e.failure else None, "reason": e.reason,
        "mode": p.mode.value, "category": p.category, "description": p.description,
        "hypothesis": p.hypothesis, "proposer": p.proposer, "parent_id": p.parent_id,
        "knobs": p.knobs, "metric_mean": e.metric_mean, "metric_std": e.metric_std,
        "test_mean": e.test_mean if e.status is Status.KEPT else None,
        "code": e.code, "diff": e.diff, "created_at": e.created_at,
        "finished_at": e.finished_at,
        "seed_runs": [{"seed": r.seed, "metric": r.metric,
                       "failure": r.failure.value if r.failure else None, "reason": r.reason,
                       "steps": r.steps, "train_seconds": r.train_seconds,
                       "wall_seconds": r.wall_seconds, "peak_rss_mb": r.peak_rss_mb,
                       "loss_curve": r.loss_curve, "log_tail": r.log_tail}
                      for r in e.seed_runs],
        "screens": [{"seed": r.seed, "fraction": r.screen, "metric": r.metric,
                     "failure": r.failure.value if r.failure else None, "reason": r.reason,
                     "steps": r.steps, "wall_seconds": r.wall_seconds} for r in e.screens],
    }
