-- Core tables: the logic layer. Rebuilt by nbaprops.warehouse.transforms when a raw
-- input changes; contracts in nbaprops.warehouse.contracts check keys and values.

CREATE TABLE IF NOT EXISTS core.team (
    tricode VARCHAR NOT NULL,
    team_id BIGINT NOT NULL,
    full_name VARCHAR NOT NULL,
    espn_code VARCHAR NOT NULL,
    nickname VARCHAR NOT NULL
);

-- Name variants of a team as the feeds write them (lower-case) -> tricode.
CREATE TABLE IF NOT EXISTS core.team_alias (
    alias VARCHAR NOT NULL,
    tricode VARCHAR NOT NULL
);

-- Book / DFS spelling -> nba.com spelling. Data, not code: extend it with a CSV.
CREATE TABLE IF NOT EXISTS core.player_alias (
    book_name_norm VARCHAR NOT NULL,
    nba_name_norm VARCHAR NOT NULL,
    note VARCHAR
);

CREATE TABLE IF NOT EXISTS core.game (
    game_id VARCHAR NOT NULL,
    season VARCHAR NOT NULL,          -- "2023-24"
    season_type VARCHAR NOT NULL,     -- preseason, regular, allstar, playoffs, playin, cup_final
    game_date DATE NOT NULL,          -- US/Eastern
    tip_off_utc TIMESTAMPTZ,          -- known for scheduled games
    home_team VARCHAR,
    away_team VARCHAR,
    home_points INTEGER,
    away_points INTEGER,
    status VARCHAR NOT NULL           -- final, scheduled
);

CREATE TABLE IF NOT EXISTS core.team_game (
    game_id VARCHAR NOT NULL,
    season VARCHAR NOT NULL,
    season_type VARCHAR NOT NULL,
    game_date DATE NOT NULL,
    team_id BIGINT NOT NULL,
    team VARCHAR NOT NULL,
    opponent VARCHAR NOT NULL,
    home BOOLEAN NOT NULL,
    won BOOLEAN,
    minutes DOUBLE,
    points INTEGER NOT NULL,
    opp_points INTEGER NOT NULL,
    fgm INTEGER, fga INTEGER, fg3m INTEGER, fg3a INTEGER, ftm INTEGER, fta INTEGER,
    oreb INTEGER, dreb INTEGER, ast INTEGER, tov INTEGER, stl INTEGER, blk INTEGER, pf INTEGER,
    possessions DOUBLE NOT NULL,
    opp_possessions DOUBLE NOT NULL,
    pace DOUBLE NOT NULL,             -- possessions per 48 minutes (average of both teams)
    off_rating DOUBLE NOT NULL,       -- points per 100 own possessions
    def_rating DOUBLE NOT NULL        -- opponent points per 100 opponent possessions
);

CREATE TABLE IF NOT EXISTS core.player_game (
    season VARCHAR NOT NULL,
    season_type VARCHAR NOT NULL,     -- regular, playoffs
    game_id VARCHAR NOT NULL,
    game_date DATE NOT NULL,
    player_id BIGINT NOT NULL,
    player_name VARCHAR NOT NULL,
    team_id BIGINT NOT NULL,
    team VARCHAR NOT NULL,
    opponent VARCHAR NOT NULL,
    home BOOLEAN NOT NULL,
    starter BOOLEAN,                  -- NULL where the source has no starter flag
    minutes DOUBLE NOT NULL,
    points INTEGER NOT NULL,
    fgm INTEGER, fga INTEGER, fg3m INTEGER, fg3a INTEGER, ftm INTEGER, fta INTEGER,
    oreb INTEGER, dreb INTEGER, reb INTEGER, ast INTEGER, tov INTEGER, stl INTEGER,
    blk INTEGER, pf INTEGER, plus_minus DOUBLE,
    source VARCHAR NOT NULL
);

-- Every player we know, for name matching (one row per player id).
CREATE TABLE IF NOT EXISTS core.player (
    player_id BIGINT NOT NULL,
    player_name VARCHAR NOT NULL,
    name_norm VARCHAR NOT NULL,
    first_game DATE NOT NULL,
    last_game DATE NOT NULL,
    n_games INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS core.game_line (
    game_id VARCHAR NOT NULL,
    game_date DATE NOT NULL,
    home_team VARCHAR NOT NULL,
    away_team VARCHAR NOT NULL,
    spread_home DOUBLE,               -- home handicap: negative when the home team is favoured
    total DOUBLE,
    implied_home_total DOUBLE,
    implied_away_total DOUBLE,
    moneyline_home DOUBLE,
    moneyline_away DOUBLE
);

-- Every quote as received (deduplicated), with its match to a player and a game.
CREATE TABLE IF NOT EXISTS core.prop_line_snapshot (
    source VARCHAR NOT NULL,
    line_kind VARCHAR NOT NULL,       -- sportsbook (real prices) or dfs (no real prices)
    book VARCHAR NOT NULL,
    market VARCHAR NOT NULL,          -- points, rebounds, assists, threes, pra, pr, pa, ra
    player_name VARCHAR NOT NULL,     -- as the book wrote it
    player_name_norm VARCHAR NOT NULL,
    player_id BIGINT,
    match_status VARCHAR NOT NULL,    -- matched, did_not_play, no_box_score, no_game, unknown_name
    match_method VARCHAR NOT NULL,    -- exact, alias, roster_<rule>, none
    game_id VARCHAR,
    game_date DATE NOT NULL,          -- US/Eastern date of the tip-off
    commence_time TIMESTAMPTZ,
    home_team VARCHAR,
    away_team VARCHAR,
    line DOUBLE NOT NULL,
    over_price DOUBLE,
    under_price DOUBLE,
    snapshot_time TIMESTAMPTZ,        -- NULL when the feed carries no quote time (DFS boards)
    after_tipoff BOOLEAN NOT NULL,
    file_id VARCHAR NOT NULL
);

-- Per player-game-market main line per book: the last quote before tip-off.
CREATE TABLE IF NOT EXISTS core.prop_line_book (
    market VARCHAR NOT NULL,
    game_date DATE NOT NULL,
    player_name_norm VARCHAR NOT NULL,
    player_id BIGINT,
    game_id VARCHAR,
    book VARCHAR NOT NULL,
    line_kind VARCHAR NOT NULL,
    line DOUBLE NOT NULL,
    over_price DOUBLE,
    under_price DOUBLE,
    snapshot_time TIMESTAMPTZ,
    n_lines_at_snapshot INTEGER NOT NULL
);

-- Per player-game-market: the consensus main line before tip-off.
CREATE TABLE IF NOT EXISTS core.prop_line (
    market VARCHAR NOT NULL,
    game_date DATE NOT NULL,
    player_name_norm VARCHAR NOT NULL,
    player_name VARCHAR NOT NULL,
    player_id BIGINT,
    match_status VARCHAR NOT NULL,
    game_id VARCHAR,
    commence_time TIMESTAMPTZ,
    line_kind VARCHAR NOT NULL,
    line DOUBLE NOT NULL,             -- median of the books' main lines
    n_books INTEGER NOT NULL,
    over_price DOUBLE,                -- median price of books quoting the consensus line
    under_price DOUBLE,
    best_over_price DOUBLE,
    best_under_price DOUBLE,
    last_snapshot_time TIMESTAMPTZ
);

-- Which core tables were built from which state of raw.
CREATE TABLE IF NOT EXISTS core.build_log (
    table_name VARCHAR NOT NULL,
    built_at TIMESTAMPTZ NOT NULL,
    n_rows BIGINT NOT NULL,
    seconds DOUBLE NOT NULL
);

-- Fingerprint of the player-alias table used by the last snapshot build.
CREATE TABLE IF NOT EXISTS core.alias_fingerprint (
    fingerprint VARCHAR NOT NULL,
    built_at TIMESTAMPTZ NOT NULL
);
