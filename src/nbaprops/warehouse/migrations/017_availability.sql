-- The official injury report (issue 24): every report as published, and each entry
-- matched to an NBA player id and game.
CREATE TABLE IF NOT EXISTS raw.availability_report (
    report_time_et VARCHAR,
    report_time_utc TIMESTAMPTZ,
    game_date DATE,
    game_time_et VARCHAR,
    matchup VARCHAR,
    team VARCHAR,
    player VARCHAR,
    status VARCHAR,
    reason VARCHAR,
    source_file VARCHAR,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);

-- One row per (report, team entry): a player entry (player_id NULL when the name did not
-- match) or the team's NOT_YET_SUBMITTED marker (player NULL).
CREATE TABLE IF NOT EXISTS core.availability (
    report_time_utc TIMESTAMPTZ NOT NULL,  -- when the report was published
    game_date DATE NOT NULL,               -- US/Eastern
    game_id VARCHAR,                       -- NULL when no such game is known
    team VARCHAR,                          -- tricode; NULL when the name is unknown
    team_name VARCHAR NOT NULL,            -- as printed
    tip_off_utc TIMESTAMPTZ,               -- the report's game time (ET) in UTC
    player VARCHAR,
    player_id BIGINT,
    match_method VARCHAR NOT NULL,         -- exact, alias, roster_*, none, team (no player)
    status VARCHAR NOT NULL,
    status_rank INTEGER,                   -- Available 0 .. Out 4; NULL: not yet submitted
    reason VARCHAR,
    file_id VARCHAR NOT NULL
);

-- A game's tip-off: the schedule's; else the game time of the first injury report
-- listing it (a later report never moves a decision time); else the
-- earliest commence time any prop feed quotes; else 7 PM US/Eastern (tip_source says
-- which). Decision time = tip-off minus decision_minutes, for reports and quotes alike.
CREATE OR REPLACE VIEW core.game_tip AS
SELECT g.game_id, g.game_date,
       coalesce(g.tip_off_utc, a.tip, q.tip,
                timezone('America/New_York', g.game_date + TIME '19:00')) AS tip_off_utc,
       CASE WHEN g.tip_off_utc IS NOT NULL THEN 'schedule'
            WHEN a.tip IS NOT NULL THEN 'injury_report'
            WHEN q.tip IS NOT NULL THEN 'prop_feed'
            ELSE 'assumed_7pm_et' END AS tip_source
FROM core.game g
LEFT JOIN (SELECT game_id, arg_min(tip_off_utc, report_time_utc) AS tip FROM core.availability
           WHERE game_id IS NOT NULL GROUP BY game_id) a ON a.game_id = g.game_id
LEFT JOIN (SELECT game_id, min(commence_time) AS tip FROM core.prop_line_snapshot
           WHERE game_id IS NOT NULL GROUP BY game_id) q ON q.game_id = g.game_id;
