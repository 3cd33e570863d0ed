-- Every stored stage of the daily product carries its market (issue 26). Rows written
-- before markets existed are points rows, so each new column defaults to 'points'.
--   * predictions.prediction, predictions.pick: the market a row prices. A model's rows
--     of a date are one batch per (system, alias, market).
--   * grading.grade, grading.bet_grade: the market graded; ``actual_points`` holds the
--     outcome in the row's market (points, rebounds, PRA, ...; the name predates markets).
--   * models.alias: a champion, challenger or shadow per system *and market* (a rebounds
--     champion never replaces the points one). DuckDB cannot change a primary key, so the
--     table is rebuilt, every row kept as a points alias. models.alias_event records the
--     market of each change.
--   * grading.completeness: per date, system and market (rebuilt for its key).
-- A version's market is its feature set's (features.catalog), never stored twice.
ALTER TABLE predictions.prediction ADD COLUMN IF NOT EXISTS market VARCHAR DEFAULT 'points';
ALTER TABLE predictions.pick ADD COLUMN IF NOT EXISTS market VARCHAR DEFAULT 'points';
ALTER TABLE grading.grade ADD COLUMN IF NOT EXISTS market VARCHAR DEFAULT 'points';
ALTER TABLE grading.bet_grade ADD COLUMN IF NOT EXISTS market VARCHAR DEFAULT 'points';
ALTER TABLE models.alias_event ADD COLUMN IF NOT EXISTS market VARCHAR DEFAULT 'points';

CREATE TABLE models.alias_020 (
    system_id VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    alias VARCHAR NOT NULL CHECK (alias IN ('champion', 'challenger', 'shadow')),
    version INTEGER NOT NULL,
    set_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (system_id, market, alias)
);
INSERT INTO models.alias_020 SELECT system_id, 'points', alias, version, set_at FROM models.alias;
DROP TABLE models.alias;
ALTER TABLE models.alias_020 RENAME TO alias;

CREATE TABLE grading.completeness_020 (
    game_date DATE NOT NULL,
    system_id VARCHAR NOT NULL,
    market VARCHAR NOT NULL,
    predicted INTEGER NOT NULL,
    graded INTEGER NOT NULL,
    void INTEGER NOT NULL,
    missing INTEGER NOT NULL,
    graded_share DOUBLE NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (game_date, system_id, market)
);
INSERT INTO grading.completeness_020
SELECT game_date, system_id, 'points', predicted, graded, void, missing, graded_share,
       computed_at
FROM grading.completeness;
DROP TABLE grading.completeness;
ALTER TABLE grading.completeness_020 RENAME TO completeness;
