"""Dev-chain token addresses and decimals.

Tokens on the dev chain are not contracts, just stable addresses the venue events refer to
(``keccak("copytrade-devchain-token:" + symbol)``, last 20 bytes) with the real tokens'
decimals.
"""

from __future__ import annotations

from functools import cache

from eth_utils import keccak

DECIMALS = {
    "BTC": 8, "ETH": 18, "SOL": 9, "ARB": 18, "LINK": 18, "UNI": 18, "DOGE": 8, "AVAX": 18,
    "USDC": 6, "sUSD": 18,
}


@cache
def token_address(symbol: str) -> str:
    if symbol not in DECIMALS:
        raise KeyError(f"unknown dev-chain token {symbol!r}")
    return "0x" + keccak(text=f"copytrade-devchain-token:{symbol}")[12:].hex()


def token_decimals(symbol: str) -> int:
    return DECIMALS[symbol]
