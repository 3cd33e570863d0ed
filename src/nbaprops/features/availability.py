"""Availability and market-move history for a frame: what was known at decision time.

Each spine row gets a decision time: its game's tip-off (``core.game_tip``) minus
``minutes_before_tip``, and no later than ``as_of`` (a live run). Everything here reads
only rows published by then:

- ``av``: the latest injury report at or before decision time that lists the game
  (``warehouse.availability``): his own status, and the recent minutes, usage share and
  points share of his teammates and of the opponent's players listed OUT or DOUBTFUL
  (the "vacated" role; also their rebounds and assists shares, for the other markets)
  and, separately, QUESTIONABLE; his status for his team's
  previous game; whether a rim protector of the opponent (>= 1.5 blocks a game over
  his last 10) is OUT or DOUBTFUL.
- ``bd``: the board, the market's own availability signal: players of each team who
  usually have a points line (one in >= 3 of the team's last 5 lined games, and still
  on the team) but have none tonight, when the game has lines at all.
- ``lm``: his sportsbook points quotes seen by decision time: the move of the books'
  median line from the first quote seen, the spread of the books' lines, the books.

The listed players' roles are their history states after their last game before the
spine's date, the same states every other feature reads.
"""

from __future__ import annotations

from nbaprops.warehouse.availability import decision_time_sql, report_at_sql

# Statuses that count as absent (OUT, DOUBTFUL) and as in doubt (QUESTIONABLE).
ABSENT_RANK = 3
DOUBT_RANK = 2
# A rim protector: at least this many blocks a game over his last 10 games.
RIM_PROTECTOR_BLOCKS = 1.5
# The board: a player usually lined has a line in >= USUAL_MIN of his team's last USUAL_N
# lined games.
USUAL_N = 5
USUAL_MIN = 3


def availability_ctes(lines: str) -> str:
    """CTEs (each ending with a comma) that define ``av``, ``bd`` and ``lm`` keyed by
    ``_row`` over the spine ``s``; ``$minutes`` and ``$as_of`` are bound parameters."""
    decision = decision_time_sql("$minutes", "CAST($as_of AS TIMESTAMPTZ)")
    # SQL fragments from this package's constants; $minutes and $as_of bound
    return f"""
    dec AS (
        SELECT s._row, s.player_id, s.game_id, s.game_date, s.team, s.opponent,
               {decision} AS decided
        FROM s LEFT JOIN core.game_tip gt ON gt.game_id = s.game_id
    ),
    dgames AS (SELECT DISTINCT game_id, game_date, decided FROM dec WHERE decided IS NOT NULL),
    rep AS ({report_at_sql("dgames")}),
    entries0 AS (
        SELECT r.game_id, r.decided, g.game_date, a.team, a.player_id, a.status_rank, a.status
        FROM rep r
        JOIN dgames g ON g.game_id = r.game_id AND g.decided = r.decided
        JOIN core.availability a
          ON a.game_id = r.game_id AND a.report_time_utc = r.report_time_utc
    ),
    entries AS (
        SELECT e.*, st.min_avg_10, st.used_share_10, st.pts_share_10, st.blk_avg_10,
               st.reb_share_10, st.ast_share_10
        FROM entries0 e ASOF LEFT JOIN features.player_state st
          ON st.player_id = e.player_id AND st.game_date < e.game_date
    ),
    tsum AS (
        SELECT game_id, decided, team,
               sum(min_avg_10) FILTER (WHERE status_rank >= {ABSENT_RANK}) AS out_min,
               sum(used_share_10) FILTER (WHERE status_rank >= {ABSENT_RANK}) AS out_used,
               sum(pts_share_10) FILTER (WHERE status_rank >= {ABSENT_RANK}) AS out_pts,
               sum(min_avg_10) FILTER (WHERE status_rank = {DOUBT_RANK}) AS q_min,
               sum(used_share_10) FILTER (WHERE status_rank = {DOUBT_RANK}) AS q_used,
               sum(pts_share_10) FILTER (WHERE status_rank = {DOUBT_RANK}) AS q_pts,
               max(CASE WHEN status_rank >= {ABSENT_RANK}
                         AND blk_avg_10 >= {RIM_PROTECTOR_BLOCKS} THEN 1 ELSE 0 END) AS rim_out,
               sum(reb_share_10) FILTER (WHERE status_rank >= {ABSENT_RANK}) AS out_reb,
               sum(ast_share_10) FILTER (WHERE status_rank >= {ABSENT_RANK}) AS out_ast
        FROM entries GROUP BY ALL
    ),
    own AS (
        SELECT d._row, max(e.status_rank) AS rank,
               sum(e.min_avg_10) FILTER (WHERE e.status_rank >= {ABSENT_RANK}) AS out_min,
               sum(e.used_share_10) FILTER (WHERE e.status_rank >= {ABSENT_RANK}) AS out_used,
               sum(e.pts_share_10) FILTER (WHERE e.status_rank >= {ABSENT_RANK}) AS out_pts,
               sum(e.min_avg_10) FILTER (WHERE e.status_rank = {DOUBT_RANK}) AS q_min,
               sum(e.used_share_10) FILTER (WHERE e.status_rank = {DOUBT_RANK}) AS q_used,
               sum(e.pts_share_10) FILTER (WHERE e.status_rank = {DOUBT_RANK}) AS q_pts,
               sum(e.reb_share_10) FILTER (WHERE e.status_rank >= {ABSENT_RANK}) AS out_reb,
               sum(e.ast_share_10) FILTER (WHERE e.status_rank >= {ABSENT_RANK}) AS out_ast
        FROM dec d JOIN entries e
          ON e.game_id = d.game_id AND e.decided = d.decided AND e.player_id = d.player_id
        GROUP BY d._row
    ),
    prev AS (
        SELECT d._row, ts.game_id AS prev_game_id, gt.tip_off_utc AS prev_tip
        FROM dec d
        ASOF LEFT JOIN features.team_state ts ON ts.team = d.team AND ts.game_date < d.game_date
        LEFT JOIN core.game_tip gt ON gt.game_id = ts.game_id
    ),
    prev_games AS (
        SELECT DISTINCT prev_game_id AS game_id, prev_tip AS decided FROM prev
        WHERE prev_game_id IS NOT NULL AND prev_tip IS NOT NULL
    ),
    prev_rep AS ({report_at_sql("prev_games")}),
    prev_status AS (
        SELECT p._row, pr.report_time_utc IS NOT NULL AS has_report,
               max(a.status_rank) AS rank
        FROM prev p JOIN dec d ON d._row = p._row
        JOIN prev_rep pr ON pr.game_id = p.prev_game_id AND pr.decided = p.prev_tip
        LEFT JOIN core.availability a
          ON a.game_id = pr.game_id AND a.report_time_utc = pr.report_time_utc
         AND a.player_id = d.player_id
        GROUP BY ALL
    ),
    av AS (
        SELECT d._row, d.decided AS decision_time, r.report_time_utc,
               r.report_time_utc IS NOT NULL AS has_report, o.rank AS own_rank,
               t.out_min - coalesce(o.out_min, 0) AS out_min,
               t.out_used - coalesce(o.out_used, 0) AS out_used,
               t.out_pts - coalesce(o.out_pts, 0) AS out_pts,
               t.q_min - coalesce(o.q_min, 0) AS q_min,
               t.q_used - coalesce(o.q_used, 0) AS q_used,
               t.q_pts - coalesce(o.q_pts, 0) AS q_pts,
               op.out_min AS opp_out_min, op.out_used AS opp_out_used,
               op.out_pts AS opp_out_pts, op.rim_out AS opp_rim_out,
               ps.has_report AS prev_has_report, ps.rank AS prev_rank,
               t.out_reb - coalesce(o.out_reb, 0) AS out_reb,
               t.out_ast - coalesce(o.out_ast, 0) AS out_ast
        FROM dec d
        LEFT JOIN rep r ON r.game_id = d.game_id AND r.decided = d.decided
        LEFT JOIN own o ON o._row = d._row
        LEFT JOIN tsum t ON t.game_id = d.game_id AND t.decided = d.decided AND t.team = d.team
        LEFT JOIN tsum op
          ON op.game_id = d.game_id AND op.decided = d.decided AND op.team = d.opponent
        LEFT JOIN prev_status ps ON ps._row = d._row
    ),
    lined_hist AS (
        SELECT pg.team, pg.player_id, pg.game_date
        FROM core.points_line x
        JOIN core.player_game pg ON pg.player_id = x.player_id AND pg.game_id = x.game_id
    ),
    board_keys AS (SELECT DISTINCT team, game_date, game_id FROM dec
                   UNION SELECT DISTINCT opponent, game_date, game_id FROM dec),
    team_lined_dates AS (
        SELECT k.team, k.game_date, h.game_date AS lined_date
        FROM board_keys k
        JOIN (SELECT DISTINCT team, game_date FROM lined_hist) h
          ON h.team = k.team AND h.game_date < k.game_date AND h.game_date >= k.game_date - 60
        QUALIFY row_number() OVER (
            PARTITION BY k.team, k.game_date ORDER BY h.game_date DESC) <= {USUAL_N}
    ),
    usual0 AS (
        SELECT d.team, d.game_date, h.player_id
        FROM team_lined_dates d
        JOIN lined_hist h ON h.team = d.team AND h.game_date = d.lined_date
        GROUP BY ALL HAVING count(*) >= {USUAL_MIN}
    ),
    usual AS (
        SELECT u.team, u.game_date, u.player_id
        FROM usual0 u ASOF JOIN features.player_state st
          ON st.player_id = u.player_id AND st.game_date < u.game_date
        WHERE st.team = u.team
    ),
    tonight AS (
        SELECT DISTINCT player_id, game_date FROM {lines}
        WHERE game_date IN (SELECT DISTINCT game_date FROM dec)
    ),
    board_team AS (
        SELECT u.team, u.game_date, count(*) FILTER (WHERE t.player_id IS NULL) AS missing,
               count(t.player_id) AS present
        FROM usual u LEFT JOIN tonight t
          ON t.player_id = u.player_id AND t.game_date = u.game_date
        GROUP BY ALL
    ),
    bd AS (
        SELECT d._row,
               CASE WHEN coalesce(bt.present, 0) + coalesce(bo.present, 0) > 0
                    THEN coalesce(bt.missing, 0) END AS team_missing,
               CASE WHEN coalesce(bt.present, 0) + coalesce(bo.present, 0) > 0
                    THEN coalesce(bo.missing, 0) END AS opp_missing
        FROM dec d
        LEFT JOIN board_team bt ON bt.team = d.team AND bt.game_date = d.game_date
        LEFT JOIN board_team bo ON bo.team = d.opponent AND bo.game_date = d.game_date
    ),
    lq AS (
        SELECT d._row, q.book, q.line, q.over_price, q.under_price, q.snapshot_time,
               min(q.snapshot_time) OVER (PARTITION BY d._row) AS first_time
        FROM dec d JOIN core.prop_line_snapshot q
          ON q.player_id = d.player_id AND q.game_date = d.game_date
        WHERE q.market = 'points' AND q.line_kind = 'sportsbook' AND NOT q.after_tipoff
          AND q.snapshot_time IS NOT NULL AND q.snapshot_time <= d.decided
    ),
    lq_last AS (
        SELECT * FROM lq
        -- a book quoting two lines at one time: the lower, so the choice never varies
        QUALIFY row_number() OVER (
            PARTITION BY _row, book ORDER BY snapshot_time DESC, line, over_price, under_price
        ) = 1
    ),
    lm AS (
        SELECT l._row, median(l.line) - any_value(o.open_line) AS move,
               max(l.line) - min(l.line) AS spread, count(*) AS n_books
        FROM lq_last l
        JOIN (SELECT _row, median(line) AS open_line FROM lq WHERE snapshot_time = first_time
              GROUP BY _row) o ON o._row = l._row
        GROUP BY l._row
    ),
    """  # noqa: S608


# Catalog groups whose features read ``av``, ``bd`` or ``lm``.
GROUPS = ("availability", "board", "line_moves")


JOINS = """
        LEFT JOIN av ON av._row = s._row
        LEFT JOIN bd ON bd._row = s._row
        LEFT JOIN lm ON lm._row = s._row"""
