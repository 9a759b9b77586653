-- Partition deletes filter by (chain_id, block_number range) through the primary key and
-- then by contract_id; the extra index cost more on every COPY than it saved on deletes.
DROP INDEX IF EXISTS raw.event_logs_contract_block;
