-- Picks as recommended and bets graded as placed (issue: a pick is what the record backs).
-- A prediction keeps its raw expected value (ev), gains the calibrated one and the
-- decision it drives; every pick of a slate (a bet, or a watchlist call with its reason)
-- is kept as recommended; a bet is graded at its own line and price. A prediction's
-- direction against the consensus line is named as such, never "correct".

ALTER TABLE predictions.prediction ADD COLUMN IF NOT EXISTS ev_calibrated DOUBLE;
ALTER TABLE predictions.prediction ADD COLUMN IF NOT EXISTS decision VARCHAR;
ALTER TABLE predictions.prediction ADD COLUMN IF NOT EXISTS p_win DOUBLE;

CREATE TABLE IF NOT EXISTS predictions.pick (
    pick_id VARCHAR PRIMARY KEY,            -- uuid4
    batch_id VARCHAR NOT NULL,              -- one slate of one model
    system_id VARCHAR NOT NULL,
    model_version INTEGER NOT NULL,
    alias VARCHAR,                          -- NULL: a backfill fit
    prediction_id VARCHAR,                  -- the prediction it came from
    game_date DATE NOT NULL,
    game_id VARCHAR NOT NULL,
    player_id BIGINT NOT NULL,
    team VARCHAR NOT NULL,
    line_kind VARCHAR NOT NULL,             -- sportsbook | dfs
    side VARCHAR NOT NULL CHECK (side IN ('OVER', 'UNDER')),
    line DOUBLE NOT NULL,                   -- consensus at decision time
    bet_book VARCHAR,                       -- the book, line and price the bet is placed at
    bet_line DOUBLE NOT NULL,
    bet_price DOUBLE NOT NULL,              -- American; -110 nominal where none was quoted
    priced BOOLEAN NOT NULL,                -- a real book price (false: DFS board)
    p_win DOUBLE,                           -- the model's P(win) of the side at bet_line
    edge DOUBLE,                            -- points, median - consensus line
    ev_raw DOUBLE NOT NULL,                 -- per unit, as the model claimed it
    ev_calibrated DOUBLE,                   -- per unit, what such claims returned (shrunk)
    ev_bucket VARCHAR,                      -- bucket of the calibrated EV
    record_n INTEGER NOT NULL,              -- comparable graded bets (decided)
    record_wins INTEGER NOT NULL,
    record_hit_rate DOUBLE,
    record_ci_low DOUBLE,
    record_ci_high DOUBLE,
    record_roi DOUBLE,                      -- per unit at the prices taken
    status VARCHAR NOT NULL CHECK (status IN ('BET', 'WATCHLIST')),
    reason VARCHAR NOT NULL,                -- why a watchlist pick is not staked
    slate_signal VARCHAR,
    stake_flat DOUBLE NOT NULL,             -- units
    stake_kelly_before DOUBLE NOT NULL,     -- share of bankroll, before the caps
    stake_kelly DOUBLE NOT NULL,            -- share of bankroll, after the caps
    capped_by VARCHAR NOT NULL,
    rank INTEGER NOT NULL,
    decided_at TIMESTAMPTZ,                 -- the prediction's decision time
    created_at TIMESTAMPTZ NOT NULL,
    is_active BOOLEAN NOT NULL,
    superseded_by VARCHAR
);

CREATE OR REPLACE VIEW predictions.bet AS
SELECT * FROM predictions.pick WHERE status = 'BET';

-- One grade per bet, at its own line and price; regrades update in place (audited).
CREATE TABLE IF NOT EXISTS grading.bet_grade (
    pick_id VARCHAR PRIMARY KEY,
    system_id VARCHAR NOT NULL,
    game_date DATE NOT NULL,
    player_id BIGINT NOT NULL,
    actual_points DOUBLE,
    result VARCHAR NOT NULL CHECK (result IN ('WIN', 'LOSS', 'PUSH', 'VOID')),
    void_reason VARCHAR,
    profit_per_unit DOUBLE NOT NULL,        -- decimal - 1 on a win, -1 on a loss, else 0
    profit_units DOUBLE NOT NULL,           -- at the flat stake
    profit_share DOUBLE NOT NULL,           -- share of bankroll, at the recommended stake
    graded_at TIMESTAMPTZ NOT NULL,
    regraded INTEGER NOT NULL DEFAULT 0
);

-- grading.grade: `result` (correct / incorrect) becomes `direction_vs_consensus`
-- (right / wrong): it grades the model's call against the consensus line, not a bet.
CREATE TABLE grading.grade_v11 (
    prediction_id VARCHAR PRIMARY KEY,
    system_id VARCHAR NOT NULL,
    game_date DATE NOT NULL,
    player_id BIGINT NOT NULL,
    actual_points DOUBLE,
    actual_minutes DOUBLE,
    abs_error DOUBLE,
    signed_error DOUBLE,
    direction_vs_consensus VARCHAR NOT NULL CHECK (
        direction_vs_consensus IN ('right', 'wrong', 'push', 'void', 'pass')),
    void_reason VARCHAR,
    line_source VARCHAR NOT NULL,
    profit_consensus DOUBLE,
    profit_best DOUBLE,
    closing_line DOUBLE,
    closing_over_price DOUBLE,
    closing_under_price DOUBLE,
    clv_line DOUBLE,
    clv_prob DOUBLE,
    pit DOUBLE,
    graded_at TIMESTAMPTZ NOT NULL,
    regraded INTEGER NOT NULL DEFAULT 0
);
INSERT INTO grading.grade_v11
SELECT prediction_id, system_id, game_date, player_id, actual_points, actual_minutes,
       abs_error, signed_error,
       CASE result WHEN 'correct' THEN 'right' WHEN 'incorrect' THEN 'wrong' ELSE result END,
       void_reason, line_source, profit_consensus, profit_best, closing_line,
       closing_over_price, closing_under_price, clv_line, clv_prob, pit, graded_at, regraded
FROM grading.grade;
DROP TABLE grading.grade;
ALTER TABLE grading.grade_v11 RENAME TO grade;
