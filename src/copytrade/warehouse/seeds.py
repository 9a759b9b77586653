"""Reference data dbt needs to name markets: tokens, GMX v2 markets, gTrade pairs, Synthetix
market proxies — for mainnet (from the venues' own lists) and the dev chain (from its
emulators). Generated into ``dbt_project/seeds/`` so there is one source of truth;
``python -m copytrade.warehouse.seeds`` rewrites them and a test checks they are current.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from copytrade.config import find_project_root
from copytrade.devchain.anvil import CHAIN_ID as DEVCHAIN
from copytrade.devchain.tokens import DECIMALS, token_address
from copytrade.devchain.venues.gmx_v2 import GmxV2Venue, market_token
from copytrade.devchain.venues.gtrade import PAIRS
from copytrade.devchain.venues.synthetix import SynthetixVenue
from copytrade.venues.registry import ABIS, load_registry

SEEDS = find_project_root(Path(__file__).parent) / "dbt_project" / "seeds"
ARBITRUM = 42161


def _csv(header: list[str], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(sorted(rows))
    return out.getvalue()


def token_addresses() -> str:
    """chain_id, address, symbol, decimals."""
    rows = [(DEVCHAIN, token_address(s), s, d) for s, d in DECIMALS.items()]
    tokens = json.loads((ABIS / "gmx_v2" / "arbitrum_tokens.json").read_text())["tokens"]
    rows += [(ARBITRUM, t["address"].lower(), t["symbol"], t["decimals"]) for t in tokens]
    return _csv(["chain_id", "address", "symbol", "decimals"], rows)


def gmx_v2_markets() -> str:
    """chain_id, market (market token address), market_symbol, index_symbol, index_decimals."""
    rows = []
    for symbol in GmxV2Venue.MARKETS:
        base = symbol.split("/")[0]
        rows.append((DEVCHAIN, market_token(symbol), symbol, base, DECIMALS[base]))
    tokens = {t["address"].lower(): t for t in json.loads((ABIS / "gmx_v2" / "arbitrum_tokens.json").read_text())["tokens"]}
    for m in json.loads((ABIS / "gmx_v2" / "arbitrum_markets.json").read_text())["markets"]:
        index = tokens.get(m["indexToken"].lower())
        if index is None:  # swap-only markets have no index token
            continue
        rows.append((ARBITRUM, m["marketToken"].lower(), m["name"].split(" ")[0], index["symbol"], index["decimals"]))
    return _csv(["chain_id", "market", "market_symbol", "index_symbol", "index_decimals"], rows)


def gtrade_pairs() -> str:
    """pair_index, market_symbol (the dev chain uses gTrade's own pair indices)."""
    return _csv(["pair_index", "market_symbol"], [(index, symbol) for symbol, index in PAIRS.items()])


def synthetix_markets() -> str:
    """chain_id, contract_id, market_symbol: one row per market proxy of the registry."""
    rows = [(DEVCHAIN, SynthetixVenue.contract_key(s), s) for s in SynthetixVenue.MARKETS]
    for row in load_registry().rows:
        if row.platform == "synthetix":
            key = row.contract_id.rsplit(".", 1)[1].upper().removesuffix("PERP")
            rows.append((row.chain_id, row.contract_id, f"{key}/USD"))
    return _csv(["chain_id", "contract_id", "market_symbol"], rows)


GENERATORS = {
    "token_addresses.csv": token_addresses,
    "gmx_v2_markets.csv": gmx_v2_markets,
    "gtrade_pairs.csv": gtrade_pairs,
    "synthetix_markets.csv": synthetix_markets,
}


def write() -> list[Path]:
    SEEDS.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in GENERATORS.items():
        path = SEEDS / name
        path.write_text(make())
        paths.append(path)
    return paths


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path}")
    sys.exit(0)
