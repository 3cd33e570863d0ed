-- Schemas per stage; each stage writes only its own schema.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS features;
CREATE SCHEMA IF NOT EXISTS predictions;
CREATE SCHEMA IF NOT EXISTS experiments;
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE SCHEMA IF NOT EXISTS pipeline;

-- Every file ever loaded, by content hash. A changed file at the same path gets a new
-- row and the old one is marked superseded; its raw rows are replaced in one transaction.
CREATE TABLE IF NOT EXISTS raw.file (
    file_id VARCHAR NOT NULL,          -- sha256 of the bytes as received
    path VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    n_bytes BIGINT NOT NULL,
    n_rows BIGINT NOT NULL,
    n_loaded BIGINT NOT NULL,
    n_quarantined BIGINT NOT NULL,
    n_unchanged BIGINT NOT NULL,
    archived_path VARCHAR,
    loaded_at TIMESTAMPTZ NOT NULL,
    is_current BOOLEAN NOT NULL,
    superseded_at TIMESTAMPTZ
);

-- Bad rows: kept with file, line and reason, never dropped.
CREATE TABLE IF NOT EXISTS raw.quarantine (
    file_id VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    line BIGINT,
    reason VARCHAR NOT NULL,
    record VARCHAR,
    quarantined_at TIMESTAMPTZ NOT NULL
);

-- Which core tables must be rebuilt because their raw inputs changed.
CREATE TABLE IF NOT EXISTS raw.change_log (
    source VARCHAR NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);

-- Audit log of every automated action (ingest, transforms, jobs).
CREATE TABLE IF NOT EXISTS pipeline.audit_log (
    logged_at TIMESTAMPTZ NOT NULL,
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    detail VARCHAR
);
