-- The one rule for "the player's points line for a player-game", as a table macro over
-- any consensus table: of the matched consensus lines, the one most books posted, then
-- the lower line. core.points_line applies it to the pre-tip consensus (core.prop_line);
-- a prediction applies it to the consensus of the quotes seen at its decision time.
CREATE OR REPLACE MACRO core.points_line_of(consensus) AS TABLE
SELECT *
FROM query_table(consensus)
WHERE market = 'points' AND player_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY player_id, game_date ORDER BY n_books DESC, line) = 1;

CREATE OR REPLACE VIEW core.points_line AS SELECT * FROM core.points_line_of('core.prop_line');
