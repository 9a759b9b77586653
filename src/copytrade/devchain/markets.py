"""The markets of the dev chain, with realistic price levels and volatilities."""

from __future__ import annotations

from copytrade.devchain.model import Market
from copytrade.devchain.tokens import token_decimals

MARKETS: dict[str, Market] = {
    m.symbol: m
    for m in (
        Market("BTC/USD", "BTC", 95_000.0, 0.55, token_decimals("BTC"), 0.2, 0.025),
        Market("ETH/USD", "ETH", 3_300.0, 0.70, token_decimals("ETH"), 0.25, 0.03),
        Market("SOL/USD", "SOL", 190.0, 0.90, token_decimals("SOL"), 0.3, 0.04),
        Market("ARB/USD", "ARB", 0.80, 1.00, token_decimals("ARB"), 0.35, 0.05),
        Market("LINK/USD", "LINK", 22.0, 0.85, token_decimals("LINK"), 0.3, 0.04),
        Market("UNI/USD", "UNI", 13.0, 0.90, token_decimals("UNI"), 0.3, 0.04),
        Market("DOGE/USD", "DOGE", 0.32, 1.10, token_decimals("DOGE"), 0.4, 0.06),
        Market("AVAX/USD", "AVAX", 38.0, 0.95, token_decimals("AVAX"), 0.3, 0.045),
    )
}
