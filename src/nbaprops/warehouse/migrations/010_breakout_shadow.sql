-- The breakout classifier's daily shadow: its risk scores per role player and date
-- (schema predictions) and their grades once the games are played (schema grading).
-- Shadow rows never change picks; they only flag them. Nothing is deleted: a
-- re-prediction supersedes (is_active = false, superseded_by), a regrade updates in place.
CREATE TABLE IF NOT EXISTS predictions.breakout (
    prediction_id VARCHAR PRIMARY KEY,      -- uuid4
    batch_id VARCHAR NOT NULL,              -- one shadow run for one date
    system_id VARCHAR NOT NULL,             -- breakout
    model_version INTEGER NOT NULL,
    alias VARCHAR,                          -- shadow
    feature_set VARCHAR NOT NULL,           -- e.g. breakout_v1
    player_id BIGINT NOT NULL,
    game_id VARCHAR NOT NULL,
    game_date DATE NOT NULL,
    team VARCHAR NOT NULL,
    -- the scope and the label's threshold, both from the pre-game season average
    season_avg_before DOUBLE NOT NULL,
    season_games_before INTEGER NOT NULL,
    breakout_threshold DOUBLE NOT NULL,     -- points that make the game a breakout
    -- the prediction
    risk_score DOUBLE NOT NULL,             -- balanced-scale score the categories read
    p_breakout DOUBLE NOT NULL,             -- the class weighting undone: a probability
    risk VARCHAR NOT NULL CHECK (risk IN ('HIGH', 'MEDIUM', 'LOW')),
    n_defaulted INTEGER NOT NULL,
    in_sample BOOLEAN NOT NULL,             -- date inside the model's training window
    -- bookkeeping
    created_at TIMESTAMPTZ NOT NULL,
    is_active BOOLEAN NOT NULL,
    superseded_by VARCHAR
);

-- One grade per breakout prediction: did he break out, or did he not play (void).
CREATE TABLE IF NOT EXISTS grading.breakout_grade (
    prediction_id VARCHAR PRIMARY KEY,
    system_id VARCHAR NOT NULL,
    model_version INTEGER NOT NULL,
    game_date DATE NOT NULL,
    player_id BIGINT NOT NULL,
    actual_points DOUBLE,
    breakout BOOLEAN,                       -- NULL when void
    result VARCHAR NOT NULL CHECK (result IN ('graded', 'void')),
    graded_at TIMESTAMPTZ NOT NULL,
    regraded INTEGER NOT NULL DEFAULT 0
);
