-- The first block of an ingested range whose content the write may have changed (blocks
-- before it were already stored, unchanged): dbt's incremental windows start there.
ALTER TABLE raw.ingested_ranges ADD COLUMN IF NOT EXISTS changed_from bigint;
UPDATE raw.ingested_ranges SET changed_from = from_block WHERE changed_from IS NULL;
