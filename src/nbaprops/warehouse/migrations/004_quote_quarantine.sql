-- Prop quotes that cannot be placed in time against their game: seen on the game's
-- date while no tip-off is known for it (not on the quote, the schedule, nor any other
-- feed's quote of that game). Kept with their file, line and reason; never used.
CREATE TABLE IF NOT EXISTS core.prop_quote_quarantine (
    source VARCHAR NOT NULL,
    book VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    player_name VARCHAR NOT NULL,
    player_id BIGINT,
    game_id VARCHAR,
    game_date DATE NOT NULL,
    line DOUBLE NOT NULL,
    snapshot_time TIMESTAMPTZ,
    reason VARCHAR NOT NULL,
    file_id VARCHAR NOT NULL,
    file_line BIGINT
);
