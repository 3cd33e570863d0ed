-- Issue 22: nothing absurd gets in.
-- A book's price far outside the other books' range for the same line is flagged as an
-- outlier: kept for the record, never the best price and never shopped.
ALTER TABLE core.prop_line_book ADD COLUMN IF NOT EXISTS over_outlier BOOLEAN DEFAULT false;
ALTER TABLE core.prop_line_book ADD COLUMN IF NOT EXISTS under_outlier BOOLEAN DEFAULT false;

-- Box-score rows whose game no team log or schedule knows: kept with their file, line
-- and reason; never part of core.player_game.
CREATE TABLE IF NOT EXISTS core.box_score_quarantine (
    source VARCHAR NOT NULL,
    player_id BIGINT NOT NULL,
    player_name VARCHAR,
    game_id VARCHAR NOT NULL,
    game_date DATE,
    reason VARCHAR NOT NULL,
    file_id VARCHAR NOT NULL,
    file_line BIGINT
);
