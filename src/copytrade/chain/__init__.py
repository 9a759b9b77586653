"""Reading chains: JSON-RPC with adaptive eth_getLogs, block headers, finality, reorgs."""
