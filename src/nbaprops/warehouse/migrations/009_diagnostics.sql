-- Daily diagnostics: one row per date and system (market sharpness, model drift, data
-- quality, root-cause attribution). Rediagnosing a date replaces its row; alerts stay.
CREATE TABLE IF NOT EXISTS monitoring.diagnostic (
    game_date DATE NOT NULL,
    system_id VARCHAR NOT NULL,
    model_version INTEGER,                  -- the version that predicted the date (mode)
    -- market sharpness
    n_lined INTEGER NOT NULL,               -- lined, played player-games of the date
    line_mae DOUBLE,
    line_mae_7d DOUBLE,
    model_beats_line_share DOUBLE,          -- the date
    model_beats_line_share_7d DOUBLE,
    sharpness_score DOUBLE,
    sharpness_status VARCHAR,               -- dull | normal | sharp | razor_sharp
    market_regime VARCHAR,                  -- TIGHT | NORMAL | LOOSE (7-day line MAE)
    -- model drift
    hit_rate_7d DOUBLE, bets_7d INTEGER,
    hit_rate_14d DOUBLE, bets_14d INTEGER,
    hit_rate_30d DOUBLE, bets_30d INTEGER,
    mae_7d DOUBLE,
    mean_signed_error_7d DOUBLE,            -- prediction - actual
    bias VARCHAR,                           -- under | neutral | over
    drift_score DOUBLE,
    drift_severity VARCHAR,                 -- none | minor | moderate | severe (NULL: no reference)
    -- data quality
    feature_completeness DOUBLE,
    defaulted_rate DOUBLE,
    days_since_box_score INTEGER,
    days_since_line INTEGER,
    missing_dates DATE[] NOT NULL,          -- season dates with games, no predictions/grading
    phase_failures INTEGER NOT NULL,
    staleness_days INTEGER,
    -- attribution
    primary_cause VARCHAR NOT NULL,
    confidence DOUBLE NOT NULL,
    conditions VARCHAR[] NOT NULL,          -- the alert conditions active on the date
    details JSON NOT NULL,                  -- everything above with its inputs, and the factors
    computed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (game_date, system_id)
);
