-- An experiment can be abandoned: a run left pending / running by a process that died
-- (killed, power cut) is marked 'abandoned' by the next daily run, with the time it
-- noticed (issue 22), never left "running" forever nor called a failure of its own.
-- DuckDB cannot alter a CHECK constraint: the table is rebuilt, every row kept.
CREATE TABLE experiments.run_014 (
    experiment_id VARCHAR PRIMARY KEY,      -- uuid4
    name VARCHAR NOT NULL,
    hypothesis VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    mode VARCHAR NOT NULL,                  -- shared | experimental
    primary_system VARCHAR NOT NULL,
    systems VARCHAR[] NOT NULL,
    feature_set VARCHAR NOT NULL,           -- resolved key, e.g. points_v1
    config JSON NOT NULL,                   -- the resolved spec, every default filled in
    config_hash VARCHAR NOT NULL,
    tags VARCHAR[] NOT NULL,
    training_start DATE,
    training_end DATE NOT NULL,
    training_rows BIGINT,
    eval_start DATE NOT NULL,
    eval_end DATE NOT NULL,
    eval_window VARCHAR NOT NULL,           -- start:end; only runs on one window compete
    eval_rows BIGINT,
    n_folds INTEGER,
    status VARCHAR NOT NULL CHECK (
        status IN ('pending', 'running', 'completed', 'failed', 'promoted', 'archived',
                   'abandoned')),
    error VARCHAR,
    metrics JSON,                           -- the primary system's summary (metrics names)
    artefacts JSON,
    git_commit VARCHAR,
    git_dirty BOOLEAN,
    parent_id VARCHAR,
    sweep VARCHAR,
    model_version INTEGER,                  -- the version it registered, if any
    mlflow_run_id VARCHAR,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ
);

INSERT INTO experiments.run_014 SELECT * FROM experiments.run;
DROP TABLE experiments.run;
ALTER TABLE experiments.run_014 RENAME TO run;
