-- Model artefact folders are stored relative to the artefact root (artifacts/ beside the
-- warehouse file, or NBAPROPS_ARTIFACTS_DIR), so a warehouse copied or moved elsewhere
-- with its artifacts/ keeps serving from any working directory (issue 23). Earlier rows
-- hold the folder as the registering process saw it: relative to its working directory
-- (data/artifacts/xgboost/v1-47634e78) or absolute. A folder named as register_version
-- names it, <root>/<system_id>/v<version>-<8 hex>, becomes <system_id>/v<version>-<hex>
-- when it was working-directory-relative or lies under this warehouse's artifacts/;
-- an absolute folder under a root elsewhere is kept as it is (and still found there).
UPDATE models.version AS v
SET artefact_dir = v.system_id || '/' || p.leaf
FROM (
    SELECT
        system_id,
        version,
        string_split(rtrim(replace(artefact_dir, '\', '/'), '/'), '/') AS parts,
        parts[-1] AS leaf,
        parts[-2] AS owner,
        rtrim(replace(artefact_dir, '\', '/'), '/') AS norm,
        (SELECT rtrim(replace(path, '\', '/'), '/')
         FROM duckdb_databases() WHERE database_name = current_database()) AS db_file
    FROM models.version
) AS p
WHERE v.system_id = p.system_id
  AND v.version = p.version
  AND len(p.parts) >= 2
  AND p.owner = p.system_id
  AND regexp_full_match(p.leaf, 'v' || CAST(p.version AS VARCHAR) || '-[0-9a-f]{8}')
  AND (
      NOT (p.norm LIKE '/%' OR regexp_matches(p.norm, '^[A-Za-z]:/'))
      OR (p.db_file IS NOT NULL AND starts_with(
          p.norm,
          regexp_replace(p.db_file, '/[^/]*$', '') || '/artifacts/'))
  );
