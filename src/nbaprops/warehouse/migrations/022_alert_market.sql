-- An alert names the market it is about (issue 26): diagnostics raise alerts per system
-- *and market*, and deduplicate and remind within their market. NULL: an alert about no
-- market (a failed phase, a stale source). Rows written before are points rows where they
-- name a system; a row an interim build wrote for another market, "<system> [<market>] on
-- <date>: ...", gets that market back from its text (the text itself is kept).
ALTER TABLE monitoring.alert ADD COLUMN IF NOT EXISTS market VARCHAR;
UPDATE monitoring.alert
SET market = CASE
    WHEN regexp_matches(message, '^\S+ \[[a-z]+\] on ')
        THEN regexp_extract(message, '^\S+ \[([a-z]+)\] on ', 1)
    ELSE 'points'
END
WHERE system_id IS NOT NULL AND market IS NULL;
