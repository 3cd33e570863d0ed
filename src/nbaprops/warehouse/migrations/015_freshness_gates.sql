-- Freshness gates (issue 23): a prediction made over stale data with --allow-stale says
-- what was stale on every row (stale_override, NULL when nothing was overridden), and a
-- player whose team on the date's lines differs from his latest box score's carries
-- the reason (freshness_flag, e.g. "team changed: BKN → MIL @ HOU"); neither is bet.
ALTER TABLE predictions.prediction ADD COLUMN stale_override VARCHAR;
ALTER TABLE predictions.prediction ADD COLUMN freshness_flag VARCHAR;
