-- Every market's line, by the one rule points already used: of the matched consensus
-- lines of a player-game in a market, the one most books posted, then the lower line.
-- core.points_line_of (migration 008) is this rule at market 'points', unchanged.
CREATE OR REPLACE MACRO core.market_line_of(consensus, mkt) AS TABLE
SELECT *
FROM query_table(consensus)
WHERE market = mkt AND player_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY player_id, game_date ORDER BY n_books DESC, line) = 1;

CREATE OR REPLACE VIEW core.market_line AS
SELECT *
FROM core.prop_line
WHERE player_id IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY market, player_id, game_date ORDER BY n_books DESC, line) = 1;
