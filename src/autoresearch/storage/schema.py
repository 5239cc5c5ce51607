"""Schema versions and migrations. Version N is reached by running MIGRATIONS[:N] in order."""

from __future__ import annotations

SCHEMA_V1 = """
CREATE TABLE studies (
    id INTEGER PRIMARY KEY,
    task TEXT NOT NULL,
    metric TEXT NOT NULL,
    direction TEXT NOT NULL,
    budget_seconds REAL NOT NULL,
    data_hash TEXT NOT NULL,
    data_source TEXT NOT NULL,
    config_json TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    UNIQUE (task, budget_seconds, data_hash)
);
CREATE TABLE experiments (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies(id),
    number INTEGER NOT NULL,
    parent_id INTEGER REFERENCES experiments(id),
    mode TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    hypothesis TEXT NOT NULL DEFAULT '',
    proposer TEXT NOT NULL,
    code TEXT NOT NULL,
    diff TEXT NOT NULL DEFAULT '',
    knobs_json TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    failure_kind TEXT,
    reason TEXT NOT NULL DEFAULT '',
    metric_mean REAL,
    metric_std REAL,
    test_mean REAL,
    seeds_planned TEXT NOT NULL DEFAULT '',
    llm_model TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    usage_json TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    finished_at REAL,
    UNIQUE (study_id, number)
);
CREATE INDEX experiments_by_study ON experiments(study_id, status);
CREATE TABLE seed_runs (
    id INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    seed INTEGER NOT NULL,
    failure_kind TEXT,
    metric REAL,
    test_metric REAL,
    reason TEXT NOT NULL DEFAULT '',
    train_seconds REAL NOT NULL DEFAULT 0,
    eval_seconds REAL NOT NULL DEFAULT 0,
    startup_seconds REAL NOT NULL DEFAULT 0,
    wall_seconds REAL NOT NULL DEFAULT 0,
    peak_rss_mb REAL NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0,
    loss_curve_json TEXT NOT NULL DEFAULT '[]',
    log_tail TEXT NOT NULL DEFAULT '',
    sandbox_json TEXT NOT NULL DEFAULT '[]',
    extra_json TEXT NOT NULL DEFAULT '{}',
    UNIQUE (experiment_id, seed)
);
"""

# v2: every measurement of a seed is kept (re-measurements of a winner, runs the machine starved;
# a negative `measurement` marks a screening run at a fraction of the budget, read apart),
# with the CPU share the run got; a study's identity includes its setup (threads per run, device,
# executor: what a budget buys). SQLite changes a UNIQUE key only by rebuilding the table; the
# store runs migrations with foreign keys off and checks them after.
SCHEMA_V2 = """
CREATE TABLE studies_v2 (
    id INTEGER PRIMARY KEY,
    task TEXT NOT NULL,
    metric TEXT NOT NULL,
    direction TEXT NOT NULL,
    budget_seconds REAL NOT NULL,
    data_hash TEXT NOT NULL,
    data_source TEXT NOT NULL,
    config_json TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    setup TEXT NOT NULL DEFAULT '',
    UNIQUE (task, budget_seconds, data_hash, setup)
);
INSERT INTO studies_v2 (id, task, metric, direction, budget_seconds, data_hash, data_source,
    config_json, created_at)
    SELECT id, task, metric, direction, budget_seconds, data_hash, data_source, config_json,
    created_at FROM studies;
DROP TABLE studies;
ALTER TABLE studies_v2 RENAME TO studies;
CREATE TABLE seed_runs_v2 (
    id INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    seed INTEGER NOT NULL,
    failure_kind TEXT,
    metric REAL,
    test_metric REAL,
    reason TEXT NOT NULL DEFAULT '',
    train_seconds REAL NOT NULL DEFAULT 0,
    eval_seconds REAL NOT NULL DEFAULT 0,
    startup_seconds REAL NOT NULL DEFAULT 0,
    wall_seconds REAL NOT NULL DEFAULT 0,
    peak_rss_mb REAL NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0,
    loss_curve_json TEXT NOT NULL DEFAULT '[]',
    log_tail TEXT NOT NULL DEFAULT '',
    sandbox_json TEXT NOT NULL DEFAULT '[]',
    extra_json TEXT NOT NULL DEFAULT '{}',
    cpu_share REAL,
    measurement INTEGER NOT NULL DEFAULT 0,
    UNIQUE (experiment_id, seed, measurement)
);
INSERT INTO seed_runs_v2 (id, experiment_id, seed, failure_kind, metric, test_metric, reason,
    train_seconds, eval_seconds, startup_seconds, wall_seconds, peak_rss_mb, steps,
    loss_curve_json, log_tail, sandbox_json, extra_json)
    SELECT id, experiment_id, seed, failure_kind, metric, test_metric, reason, train_seconds,
    eval_seconds, startup_seconds, wall_seconds, peak_rss_mb, steps, loss_curve_json, log_tail,
    sandbox_json, extra_json FROM seed_runs;
DROP TABLE seed_runs;
ALTER TABLE seed_runs_v2 RENAME TO seed_runs;
"""

MIGRATIONS: tuple[str, ...] = (SCHEMA_V1, SCHEMA_V2)
SCHEMA_VERSION = len(MIGRATIONS)
