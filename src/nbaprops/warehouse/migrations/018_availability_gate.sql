-- The availability gate (issue 24): each prediction and pick carries its player's status
-- in the latest injury report published by its decision time ('Not listed' when the
-- report lists his game but not him; NULL when no report listed the game), and when that
-- report was published. A pick on a player listed Out, Doubtful or Questionable (the
-- setting availability_block_statuses) is never a bet.
ALTER TABLE predictions.prediction ADD COLUMN availability_status VARCHAR;
ALTER TABLE predictions.prediction ADD COLUMN availability_report_utc TIMESTAMPTZ;
ALTER TABLE predictions.pick ADD COLUMN availability_status VARCHAR;
