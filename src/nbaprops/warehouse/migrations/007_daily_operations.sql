-- Daily operations: predictions (schema predictions), grading (schema grading) and the
-- daily run's phase records (schema pipeline). Nothing is deleted: a re-prediction
-- supersedes (is_active = false, superseded_by), a regrade updates in place and is logged.
CREATE SCHEMA IF NOT EXISTS grading;

CREATE TABLE IF NOT EXISTS predictions.prediction (
    prediction_id VARCHAR PRIMARY KEY,      -- uuid4
    batch_id VARCHAR NOT NULL,              -- one predict (or backfill date) invocation
    system_id VARCHAR NOT NULL,
    model_version INTEGER NOT NULL,
    alias VARCHAR,                          -- champion | challenger | shadow; NULL: backfill fit
    player_id BIGINT NOT NULL,
    game_id VARCHAR NOT NULL,
    game_date DATE NOT NULL,
    team VARCHAR NOT NULL,
    -- the line and its source
    line_source VARCHAR NOT NULL CHECK (line_source IN ('ACTUAL', 'ESTIMATED', 'NO_LINE')),
    line_kind VARCHAR,                      -- sportsbook | dfs (ACTUAL only)
    line DOUBLE,                            -- consensus at decision time (ACTUAL)
    n_books INTEGER,
    quote_time TIMESTAMPTZ,                 -- last quote the consensus used
    over_price DOUBLE,                      -- consensus prices (sportsbook lines)
    under_price DOUBLE,
    estimated_line DOUBLE,
    estimate_method VARCHAR,
    decision_time TIMESTAMPTZ,              -- quotes after this were not read
    -- the prediction
    median DOUBLE NOT NULL,
    mean DOUBLE NOT NULL,
    p_over DOUBLE,
    p_under DOUBLE,
    p_push DOUBLE,
    p_over_dist DOUBLE,                     -- after the PIT stage only (calibration input)
    edge DOUBLE,
    ev DOUBLE,                              -- per unit, at the price actually available
    recommendation VARCHAR NOT NULL CHECK (
        recommendation IN ('OVER', 'UNDER', 'PASS', 'NO_LINE')),
    confidence VARCHAR NOT NULL,
    bet_book VARCHAR,                       -- line shopping: best book for the side
    bet_line DOUBLE,
    bet_price DOUBLE,
    n_defaulted INTEGER NOT NULL,
    quantiles DOUBLE[] NOT NULL,            -- the predictive distribution (PIT at grading)
    in_sample BOOLEAN NOT NULL,             -- --allow-in-sample: never in any figure
    completeness_skipped BOOLEAN NOT NULL,
    -- bookkeeping
    created_at TIMESTAMPTZ NOT NULL,
    is_active BOOLEAN NOT NULL,
    superseded_by VARCHAR
);

-- One grade per prediction; regrades update in place (and leave an audit line).
CREATE TABLE IF NOT EXISTS grading.grade (
    prediction_id VARCHAR PRIMARY KEY,
    system_id VARCHAR NOT NULL,
    game_date DATE NOT NULL,
    player_id BIGINT NOT NULL,
    actual_points DOUBLE,
    actual_minutes DOUBLE,
    abs_error DOUBLE,
    signed_error DOUBLE,                    -- actual - median
    result VARCHAR NOT NULL CHECK (result IN ('correct', 'incorrect', 'push', 'void', 'pass')),
    void_reason VARCHAR,
    line_source VARCHAR NOT NULL,
    profit_consensus DOUBLE,                -- units, at the consensus price (-110 unpriced)
    profit_best DOUBLE,                     -- units, at the shopped book, line and price
    closing_line DOUBLE,                    -- last pre-tip consensus
    closing_over_price DOUBLE,
    closing_under_price DOUBLE,
    clv_line DOUBLE,                        -- points of line value on the side taken
    clv_prob DOUBLE,                        -- de-vigged closing P(side) - implied P at bet
    pit DOUBLE,                             -- F(actual) under the predicted distribution
    graded_at TIMESTAMPTZ NOT NULL,
    regraded INTEGER NOT NULL DEFAULT 0
);

-- Per system and date: predicted, graded, void, missing (grading completeness).
CREATE TABLE IF NOT EXISTS grading.completeness (
    game_date DATE NOT NULL,
    system_id VARCHAR NOT NULL,
    predicted INTEGER NOT NULL,
    graded INTEGER NOT NULL,
    void INTEGER NOT NULL,
    missing INTEGER NOT NULL,
    graded_share DOUBLE NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (game_date, system_id)
);

-- Per system and date after predicting: the slate signal.
CREATE TABLE IF NOT EXISTS predictions.signal (
    game_date DATE NOT NULL,
    system_id VARCHAR NOT NULL,
    model_version INTEGER NOT NULL,
    n_games INTEGER NOT NULL,
    n_bets INTEGER NOT NULL,
    over_share DOUBLE,
    n_high_edge INTEGER NOT NULL,
    skew VARCHAR NOT NULL,
    signal VARCHAR NOT NULL CHECK (signal IN ('RED', 'YELLOW', 'GREEN')),
    reasons VARCHAR NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (game_date, system_id, model_version)
);

-- The daily run's phases: a missing day is visible, never silent.
CREATE TABLE IF NOT EXISTS pipeline.phase_run (
    run_id VARCHAR NOT NULL,
    run_date DATE NOT NULL,
    phase VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('EXPECTED', 'RUNNING', 'COMPLETE', 'FAILED')),
    rows BIGINT,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    error VARCHAR,
    PRIMARY KEY (run_id, phase)
);

-- Alerts (grading completeness now; diagnostics later).
CREATE TABLE IF NOT EXISTS monitoring.alert (
    raised_at TIMESTAMPTZ NOT NULL,
    game_date DATE,
    severity VARCHAR NOT NULL CHECK (severity IN ('CRITICAL', 'WARNING', 'INFO')),
    source VARCHAR NOT NULL,
    system_id VARCHAR,
    message VARCHAR NOT NULL
);

ALTER TABLE pipeline.audit_log ADD COLUMN IF NOT EXISTS success BOOLEAN;
ALTER TABLE pipeline.audit_log ADD COLUMN IF NOT EXISTS duration_s DOUBLE;
