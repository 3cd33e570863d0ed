-- The experiment registry (schema experiments) and the model registry (schema models).
-- Nothing here is ever deleted: failed runs keep their error, superseded aliases their
-- history, and a version's artefacts stay where its row says.
CREATE SCHEMA IF NOT EXISTS models;

CREATE TABLE IF NOT EXISTS experiments.run (
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
        status IN ('pending', 'running', 'completed', 'failed', 'promoted', 'archived')),
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

-- Every status change, with its reason (a failure's error, a promotion's alias).
CREATE TABLE IF NOT EXISTS experiments.run_event (
    experiment_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    detail VARCHAR
);

-- Long-format figures of every system a run scored, under the metrics module's names.
CREATE TABLE IF NOT EXISTS experiments.run_metric (
    experiment_id VARCHAR NOT NULL,
    system VARCHAR NOT NULL,
    row_set VARCHAR NOT NULL,               -- all | sportsbook | dfs
    metric VARCHAR NOT NULL,
    value DOUBLE,
    n BIGINT,
    PRIMARY KEY (experiment_id, system, row_set, metric)
);

-- The walk-forward's out-of-sample predictions: what compare and the gate pair rows on.
CREATE TABLE IF NOT EXISTS experiments.prediction (
    experiment_id VARCHAR NOT NULL,
    system VARCHAR NOT NULL,
    fold INTEGER NOT NULL,
    warmup BOOLEAN NOT NULL,
    player_id BIGINT NOT NULL,
    game_id VARCHAR,
    game_date DATE NOT NULL,
    played BOOLEAN NOT NULL,
    actual DOUBLE,
    median DOUBLE NOT NULL,
    mean DOUBLE NOT NULL,
    line DOUBLE,
    line_kind VARCHAR,
    n_books DOUBLE,
    over_price DOUBLE,
    under_price DOUBLE,
    p_over DOUBLE,
    p_under DOUBLE,
    p_push DOUBLE,
    side VARCHAR NOT NULL,
    ev DOUBLE,
    pit DOUBLE
);

-- A registered model: one trained artefact of a system, with its provenance and its
-- own probability calibration (fitted on out-of-sample rows before its training end).
CREATE TABLE IF NOT EXISTS models.version (
    system_id VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    experiment_id VARCHAR NOT NULL,
    mode VARCHAR NOT NULL,                  -- experimental versions are never promoted
    feature_set VARCHAR NOT NULL,           -- name, e.g. points
    feature_set_version INTEGER NOT NULL,
    feature_list_hash VARCHAR NOT NULL,
    feature_columns VARCHAR[] NOT NULL,
    train_start DATE,
    train_end DATE NOT NULL,
    train_rows BIGINT NOT NULL,
    params JSON NOT NULL,
    library_versions JSON NOT NULL,
    code_commit VARCHAR,
    code_dirty BOOLEAN,
    eval_window VARCHAR NOT NULL,
    metrics JSON,
    calibration JSON NOT NULL,              -- sizes and ranges of what it was fitted on
    artefact_dir VARCHAR NOT NULL,
    artefact_sha256 VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (system_id, version)
);

-- Which version each alias of a system points at now.
CREATE TABLE IF NOT EXISTS models.alias (
    system_id VARCHAR NOT NULL,
    alias VARCHAR NOT NULL CHECK (alias IN ('champion', 'challenger', 'shadow')),
    version INTEGER NOT NULL,
    set_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (system_id, alias)
);

-- Every alias change (and every refused promotion) with who, when, why and the gate.
CREATE TABLE IF NOT EXISTS models.alias_event (
    system_id VARCHAR NOT NULL,
    alias VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    previous_version INTEGER,
    action VARCHAR NOT NULL CHECK (action IN ('promoted', 'forced', 'refused', 'removed')),
    actor VARCHAR NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    reason VARCHAR,
    gate JSON
);
