-- The daily run's phase records learn who wrote them and that a run can die.
--   * status ABANDONED: a phase left RUNNING (or EXPECTED) by a run whose process ended
--     without finishing it (killed, power cut); the next run marks it, with the time it
--     noticed, so `status` never shows a dead run's phase as still running.
--   * pid, host: the process that recorded the phase (who "the dead run" was).
--   * created_at: when the record was first written (an EXPECTED row has no start time;
--     this orders runs of one date so `status` shows one run's phases together).
-- DuckDB cannot alter a CHECK constraint: the table is rebuilt, every row kept.
CREATE TABLE pipeline.phase_run_013 (
    run_id VARCHAR NOT NULL,
    run_date DATE NOT NULL,
    phase VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (
        status IN ('EXPECTED', 'RUNNING', 'COMPLETE', 'FAILED', 'ABANDONED')),
    rows BIGINT,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    error VARCHAR,
    pid INTEGER,
    host VARCHAR,
    created_at TIMESTAMPTZ,
    PRIMARY KEY (run_id, phase)
);

INSERT INTO pipeline.phase_run_013
SELECT run_id, run_date, phase, status, rows, started_at, finished_at, error,
       NULL, NULL, coalesce(started_at, finished_at)
FROM pipeline.phase_run;

DROP TABLE pipeline.phase_run;

ALTER TABLE pipeline.phase_run_013 RENAME TO phase_run;
