-- monitoring.diagnostic carries its market (issue 26): one row per date, system and
-- market. DuckDB cannot change a primary key, so the table is rebuilt (as in 020) with
-- ``market`` after ``system_id``; every row written before is a points row, except a row
-- stored under the interim combined key "<system> [<market>]" (the diagnostics of another
-- market before this column existed), which is split back into its system and market.
CREATE TABLE monitoring.diagnostic_021 (
    game_date DATE NOT NULL,
    system_id VARCHAR NOT NULL,             -- the system, never a market label
    market VARCHAR NOT NULL,                -- the prop market diagnosed (points, rebounds, ...)
    model_version INTEGER,
    n_lined INTEGER NOT NULL,
    line_mae DOUBLE,
    line_mae_7d DOUBLE,
    model_beats_line_share DOUBLE,
    model_beats_line_share_7d DOUBLE,
    sharpness_score DOUBLE,
    sharpness_status VARCHAR,
    market_regime VARCHAR,
    hit_rate_7d DOUBLE, bets_7d INTEGER,
    hit_rate_14d DOUBLE, bets_14d INTEGER,
    hit_rate_30d DOUBLE, bets_30d INTEGER,
    mae_7d DOUBLE,
    mean_signed_error_7d DOUBLE,
    bias VARCHAR,
    drift_score DOUBLE,
    drift_severity VARCHAR,
    feature_completeness DOUBLE,
    defaulted_rate DOUBLE,
    days_since_box_score INTEGER,
    days_since_line INTEGER,
    missing_dates DATE[] NOT NULL,
    phase_failures INTEGER NOT NULL,
    staleness_days INTEGER,
    primary_cause VARCHAR NOT NULL,
    confidence DOUBLE NOT NULL,
    conditions VARCHAR[] NOT NULL,
    details JSON NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (game_date, system_id, market)
);
INSERT INTO monitoring.diagnostic_021
SELECT game_date,
       CASE WHEN regexp_matches(system_id, '^.+ \[[a-z0-9_]+\]$')
            THEN regexp_extract(system_id, '^(.+) \[([a-z0-9_]+)\]$', 1)
            ELSE system_id END,
       CASE WHEN regexp_matches(system_id, '^.+ \[[a-z0-9_]+\]$')
            THEN regexp_extract(system_id, '^(.+) \[([a-z0-9_]+)\]$', 2)
            ELSE 'points' END,
       model_version, n_lined, line_mae, line_mae_7d, model_beats_line_share,
       model_beats_line_share_7d, sharpness_score, sharpness_status, market_regime,
       hit_rate_7d, bets_7d, hit_rate_14d, bets_14d, hit_rate_30d, bets_30d, mae_7d,
       mean_signed_error_7d, bias, drift_score, drift_severity, feature_completeness,
       defaulted_rate, days_since_box_score, days_since_line, missing_dates, phase_failures,
       staleness_days, primary_cause, confidence, conditions, details, computed_at
FROM monitoring.diagnostic;
DROP TABLE monitoring.diagnostic;
ALTER TABLE monitoring.diagnostic_021 RENAME TO diagnostic;
