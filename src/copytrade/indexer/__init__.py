"""Historical ingestion: finalized logs of registry contracts, fetched, decoded and landed.

Everything here is a plain function of (database connection, RPC client, registry row,
block range); the Dagster assets in ``orchestration`` are thin wrappers around it.
"""
