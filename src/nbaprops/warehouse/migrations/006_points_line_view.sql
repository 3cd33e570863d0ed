-- The one rule for "the player's points line for a player-game": of the matched pre-tip
-- consensus lines (core.prop_line), the one most books posted, then the lower line.
-- Features, serving, the backtest and the daily job all read it from here.
CREATE OR REPLACE VIEW core.points_line AS
SELECT *
FROM core.prop_line
WHERE market = 'points' AND player_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY player_id, game_date ORDER BY n_books DESC, line) = 1;
