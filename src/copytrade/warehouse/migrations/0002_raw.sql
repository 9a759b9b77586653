-- What came from the chain (DESIGN.md §4). Hashes, addresses and topics are 0x hex text:
-- joins and dbt stay readable; the volume is small next to the decoded tables.

CREATE TABLE IF NOT EXISTS raw.contracts (
    contract_id  text PRIMARY KEY,
    platform     text    NOT NULL,
    version      text    NOT NULL,
    chain_id     integer NOT NULL,
    address      text    NOT NULL,
    from_block   bigint  NOT NULL,
    to_block     bigint,
    abi          text    NOT NULL,
    status       text    NOT NULL,
    contract     text    NOT NULL DEFAULT '',
    approx       boolean NOT NULL DEFAULT false,
    note         text    NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS contracts_chain_address ON raw.contracts (chain_id, address);

CREATE TABLE IF NOT EXISTS raw.blocks (
    chain_id     integer NOT NULL,
    number       bigint  NOT NULL,
    hash         text    NOT NULL,
    parent_hash  text    NOT NULL,
    timestamp    bigint  NOT NULL,
    block_time   timestamptz NOT NULL,
    PRIMARY KEY (chain_id, number)
);

CREATE TABLE IF NOT EXISTS raw.event_logs (
    chain_id     integer NOT NULL,
    contract_id  text    NOT NULL,
    address      text    NOT NULL,
    block_number bigint  NOT NULL,
    block_hash   text    NOT NULL,
    tx_hash      text    NOT NULL,
    tx_index     integer NOT NULL,
    log_index    integer NOT NULL,
    topic0       text,
    topic1       text,
    topic2       text,
    topic3       text,
    data         bytea   NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX IF NOT EXISTS event_logs_contract_block ON raw.event_logs (contract_id, block_number);

-- Logs no configured event knows, or that failed to decode: kept with the reason.
CREATE TABLE IF NOT EXISTS raw.quarantine (
    chain_id     integer NOT NULL,
    contract_id  text    NOT NULL,
    block_number bigint  NOT NULL,
    log_index    integer NOT NULL,
    topic0       text,
    reason       text    NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX IF NOT EXISTS quarantine_contract_block ON raw.quarantine (contract_id, block_number);

-- Which block ranges of which contract have been ingested (coverage checks, backfills).
CREATE TABLE IF NOT EXISTS raw.ingested_ranges (
    contract_id  text    NOT NULL,
    chain_id     integer NOT NULL,
    from_block   bigint  NOT NULL,
    to_block     bigint  NOT NULL,
    logs         integer NOT NULL,
    decoded      integer NOT NULL,
    quarantined  integer NOT NULL,
    blocks       integer NOT NULL,
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_id, from_block)
);
