-- Raw tables: one per public file format, typed, with the file and line each row came from.
-- Generated from nbaprops.ingest.sources at version 2; a test keeps the two in step.

-- nba_api LeagueGameLog, player mode (one row per player-game)
CREATE TABLE IF NOT EXISTS raw.nba_player_log (
    season_id VARCHAR,
    player_id BIGINT,
    player_name VARCHAR,
    team_id BIGINT,
    team_abbreviation VARCHAR,
    game_id VARCHAR,
    game_date DATE,
    matchup VARCHAR,
    wl VARCHAR,
    min DOUBLE,
    pts BIGINT,
    fgm BIGINT,
    fga BIGINT,
    fg3m BIGINT,
    fg3a BIGINT,
    ftm BIGINT,
    fta BIGINT,
    oreb BIGINT,
    dreb BIGINT,
    reb BIGINT,
    ast BIGINT,
    stl BIGINT,
    blk BIGINT,
    tov BIGINT,
    pf BIGINT,
    plus_minus DOUBLE,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);

-- nba_api LeagueGameLog, team mode (every team-game, all season types)
CREATE TABLE IF NOT EXISTS raw.nba_team_log (
    season_id VARCHAR,
    team_id BIGINT,
    team_abbreviation VARCHAR,
    team_name VARCHAR,
    game_id VARCHAR,
    game_date DATE,
    matchup VARCHAR,
    wl VARCHAR,
    min DOUBLE,
    pts BIGINT,
    fgm BIGINT,
    fga BIGINT,
    fg3m BIGINT,
    fg3a BIGINT,
    ftm BIGINT,
    fta BIGINT,
    oreb BIGINT,
    dreb BIGINT,
    reb BIGINT,
    ast BIGINT,
    stl BIGINT,
    blk BIGINT,
    tov BIGINT,
    pf BIGINT,
    plus_minus DOUBLE,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);

-- nba_api traditional + advanced playoff box scores (with START_POSITION)
CREATE TABLE IF NOT EXISTS raw.nba_playoff_box (
    player_id BIGINT,
    player_name VARCHAR,
    game_id VARCHAR,
    game_date DATE,
    matchup VARCHAR,
    team_abbreviation VARCHAR,
    team_id BIGINT,
    opp_abbreviation VARCHAR,
    home_game BIGINT,
    min DOUBLE,
    pts BIGINT,
    fgm BIGINT,
    fga BIGINT,
    fg3m BIGINT,
    fg3a BIGINT,
    ftm BIGINT,
    fta BIGINT,
    oreb BIGINT,
    dreb BIGINT,
    reb BIGINT,
    ast BIGINT,
    stl BIGINT,
    blk BIGINT,
    tov BIGINT,
    pf BIGINT,
    plus_minus DOUBLE,
    start_position VARCHAR,
    usg_pct DOUBLE,
    poss DOUBLE,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);

-- closing spread and total per game (ESPN team codes)
CREATE TABLE IF NOT EXISTS raw.game_line (
    season BIGINT,
    game_date DATE,
    regular BOOLEAN,
    playoffs BOOLEAN,
    away VARCHAR,
    home VARCHAR,
    score_away BIGINT,
    score_home BIGINT,
    whos_favored VARCHAR,
    spread DOUBLE,
    total DOUBLE,
    moneyline_away DOUBLE,
    moneyline_home DOUBLE,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);

-- league schedule with tip-off times (future games)
CREATE TABLE IF NOT EXISTS raw.schedule (
    game_id VARCHAR,
    season_type VARCHAR,
    tip_utc TIMESTAMPTZ,
    away_team VARCHAR,
    home_team VARCHAR,
    venue VARCHAR,
    city VARCHAR,
    national_tv VARCHAR,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);

-- The Odds API event-odds response flattened one row per outcome
CREATE TABLE IF NOT EXISTS raw.odds_api_outcome (
    event_id VARCHAR,
    commence_time TIMESTAMPTZ,
    home_team VARCHAR,
    away_team VARCHAR,
    book VARCHAR,
    market VARCHAR,
    snapshot_time TIMESTAMPTZ,
    side VARCHAR,
    player VARCHAR,
    line DOUBLE,
    price DOUBLE,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);

-- PrizePicks / Underdog boards (real lines, placeholder prices)
CREATE TABLE IF NOT EXISTS raw.dfs_line (
    player VARCHAR,
    market VARCHAR,
    book VARCHAR,
    side VARCHAR,
    line DOUBLE,
    price DOUBLE,
    home_team VARCHAR,
    away_team VARCHAR,
    event_id VARCHAR,
    commence_time TIMESTAMPTZ,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);

-- points+rebounds+assists lines with prices (Odds API, one row per quote)
CREATE TABLE IF NOT EXISTS raw.pra_line (
    player VARCHAR,
    event_id VARCHAR,
    event_date DATE,
    home_team VARCHAR,
    away_team VARCHAR,
    book VARCHAR,
    line DOUBLE,
    snapshot_time TIMESTAMPTZ,
    over_price DOUBLE,
    under_price DOUBLE,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);

-- 3-pointers-made lines with prices (Odds API, one row per quote)
CREATE TABLE IF NOT EXISTS raw.threes_line (
    player VARCHAR,
    game VARCHAR,
    commence_time TIMESTAMPTZ,
    market VARCHAR,
    line DOUBLE,
    book VARCHAR,
    snapshot_time TIMESTAMPTZ,
    over_price DOUBLE,
    under_price DOUBLE,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);

-- generic prop-line CSV for lines from anywhere: player, game_date or commence_time, market, book, line, over_price, under_price, snapshot_time
CREATE TABLE IF NOT EXISTS raw.generic_prop_line (
    player VARCHAR,
    game_date DATE,
    commence_time TIMESTAMPTZ,
    market VARCHAR,
    book VARCHAR,
    line DOUBLE,
    over_price DOUBLE,
    under_price DOUBLE,
    snapshot_time TIMESTAMPTZ,
    _file_id VARCHAR NOT NULL,
    _line BIGINT NOT NULL
);
