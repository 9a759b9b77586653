"""The scenario's own ledger, written beside the chain it describes.

Format (version 1), in ``<home>/devchain/ground_truth/``; all USD amounts are exact decimal
strings (as many digits as the venue's integer units give), times are UTC:

``actions.csv`` — one row per trader action (what ``perp_trading_event_log`` must contain):
  action_id, chain_id, platform, version, contract_id, address, block_number, block_time
  (epoch seconds), block_time_utc, tx_hash, tx_index, log_index (of the log that identifies
  the action: IncreasePosition, EventLog1 PositionIncrease, MarketExecuted, PositionModified,
  ...), trader, position_uid, position_key, market, is_long, action, trigger,
  size_delta_usd, size_after_usd, collateral_delta_usd (+deposit / -withdrawal),
  collateral_after_usd, price, leverage (size_after / collateral_after, truncated to 18
  decimals; 0 when either is 0), fee_usd, funding_usd (costs are positive),
  realized_pnl_before_fees_usd, realized_pnl_usd (= before - fee - funding),
  in_indexed_range (the block is inside the contract's registry range).
  A Synthetix flip is two rows (CLOSE then OPEN) with the same log_index.

``positions.csv`` — one row per position lifecycle: position_uid, platform, version,
  contract_id, trader, market, is_long, position_key, opened_at, closed_at, status
  (OPEN | CLOSED | LIQUIDATED), entry_price, exit_price, max_size_usd, max_collateral_usd,
  realized_pnl_usd, fees_usd, funding_usd, actions, opened_before_range.

``daily_pnl.csv`` — per platform x trader x UTC date: realized_pnl_usd, fees_usd,
  funding_usd, volume_usd (sum of |size_delta_usd| of size-changing actions), trades
  (size-changing actions), liquidations, actions_in_range, actions_before_range.

``traders.csv`` — trader, index, style, venue, platform, markets.

``manifest.json`` — the scenario's inputs, the chain (genesis, block time, blocks,
  contracts and registry rows), counts and elapsed time.

Invariants (tested): for every trader, the sum of position realized PnL equals the sum of
daily realized PnL; for every closed position, realized PnL = cash out - cash in (except
Synthetix, whose margin outlives positions: there it holds per account and market).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from copytrade.devchain.model import Action, Step
from copytrade.venues.registry import RegistryRow

FORMAT_VERSION = 1
LEVERAGE_QUANTUM = Decimal("1e-18")  # leverage = size / collateral, truncated to 18 decimals
SIZE_ACTIONS = {Action.OPEN, Action.INCREASE, Action.DECREASE, Action.CLOSE, Action.LIQUIDATE}

ACTION_COLUMNS = [
    "action_id", "chain_id", "platform", "version", "contract_id", "address", "block_number",
    "block_time", "block_time_utc", "tx_hash", "tx_index", "log_index", "trader", "position_uid",
    "position_key", "market", "is_long", "action", "trigger", "size_delta_usd", "size_after_usd",
    "collateral_delta_usd", "collateral_after_usd", "price", "leverage", "fee_usd", "funding_usd",
    "realized_pnl_before_fees_usd", "realized_pnl_usd", "in_indexed_range",
]
POSITION_COLUMNS = [
    "position_uid", "platform", "version", "contract_id", "trader", "market", "is_long",
    "position_key", "opened_at", "closed_at", "status", "entry_price", "exit_price",
    "max_size_usd", "max_collateral_usd", "realized_pnl_usd", "fees_usd", "funding_usd",
    "actions", "opened_before_range",
]
DAILY_COLUMNS = [
    "platform", "trader", "date", "realized_pnl_usd", "fees_usd", "funding_usd", "volume_usd",
    "trades", "liquidations", "actions_in_range", "actions_before_range",
]


def dec(value: Decimal) -> str:
    """Exact plain-notation decimal without trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Position:
    row: dict
    realized: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)
    max_size: Decimal = Decimal(0)
    max_collateral: Decimal = Decimal(0)
    actions: int = 0


@dataclass
class _Day:
    realized: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)
    volume: Decimal = Decimal(0)
    trades: int = 0
    liquidations: int = 0
    in_range: int = 0
    before_range: int = 0


@dataclass
class Resolver:
    """Which registry row (contract id, version) a log at (address, block) belongs to."""

    rows: list[RegistryRow]
    by_address: dict[str, list[RegistryRow]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_address = defaultdict(list)
        for row in sorted(self.rows, key=lambda r: r.from_block):
            self.by_address[row.address.lower()].append(row)

    def resolve(self, address: str, block: int) -> tuple[RegistryRow, bool]:
        rows = self.by_address[address.lower()]
        for row in rows:
            if row.from_block <= block and (row.to_block is None or block <= row.to_block):
                return row, True
        return rows[0], False  # before the indexed range


class LedgerWriter:
    def __init__(self, directory: Path, resolver: Resolver, addresses: dict[str, str], chain_id: int, uid) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.resolver = resolver
        self.addresses = addresses
        self.chain_id = chain_id
        self.uid = uid
        self._actions_file = (directory / "actions.csv").open("w", newline="")
        self._actions = csv.writer(self._actions_file)
        self._actions.writerow(ACTION_COLUMNS)
        self.positions: dict[str, _Position] = {}
        self.days: dict[tuple[str, str, str], _Day] = defaultdict(_Day)
        self.count = 0

    def write(self, steps: list[Step]) -> None:
        for step in steps:
            self._write(step)

    def _write(self, step: Step) -> None:
        a, pos, intent = step.amounts, step.position, step.intent
        address = self.addresses[step.contract_key]
        row, in_range = self.resolver.resolve(address, intent.block)
        uid = self.uid(pos)
        self.count += 1
        self._actions.writerow([
            self.count, self.chain_id, row.platform, row.version, row.contract_id, address,
            intent.block, intent.time, utc(intent.time), step.extra["tx_hash"], step.extra["tx_index"],
            step.extra["log_index"], pos.trader, uid, pos.position_key, pos.market.symbol,
            int(pos.is_long), step.action.value, intent.trigger.value, dec(a.size_delta_usd),
            dec(a.size_after_usd), dec(a.collateral_delta_usd), dec(a.collateral_after_usd),
            dec(a.price), dec(a.leverage.quantize(LEVERAGE_QUANTUM, ROUND_DOWN)), dec(a.fee_usd), dec(a.funding_usd),
            dec(a.realized_pnl_before_fees_usd), dec(a.realized_pnl_usd), int(in_range),
        ])
        p = self.positions.get(uid)
        if p is None:
            p = self.positions[uid] = _Position({
                "position_uid": uid, "platform": row.platform, "version": row.version,
                "contract_id": row.contract_id, "trader": pos.trader, "market": pos.market.symbol,
                "is_long": int(pos.is_long), "position_key": pos.position_key,
                "opened_at": intent.time, "closed_at": "", "status": "OPEN",
                "entry_price": dec(a.price), "exit_price": "",
                "opened_before_range": int(not in_range),
            })
        p.realized += a.realized_pnl_usd
        p.fees += a.fee_usd
        p.funding += a.funding_usd
        p.max_size = max(p.max_size, a.size_after_usd, a.size_delta_usd if step.action in (Action.OPEN,) else 0)
        p.max_collateral = max(p.max_collateral, a.collateral_after_usd)
        p.actions += 1
        if step.action in (Action.CLOSE, Action.LIQUIDATE):
            p.row.update(
                closed_at=intent.time,
                status="LIQUIDATED" if step.action is Action.LIQUIDATE else "CLOSED",
                exit_price=dec(a.price),
            )
        day = self.days[(row.platform, pos.trader, utc(intent.time)[:10])]
        day.realized += a.realized_pnl_usd
        day.fees += a.fee_usd
        day.funding += a.funding_usd
        if step.action in SIZE_ACTIONS:
            day.volume += a.size_delta_usd
            day.trades += 1
        day.liquidations += step.action is Action.LIQUIDATE
        if in_range:
            day.in_range += 1
        else:
            day.before_range += 1

    def close(self, traders: list[dict], manifest: dict) -> dict:
        self._actions_file.close()
        with (self.directory / "positions.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(POSITION_COLUMNS)
            for p in self.positions.values():
                r = p.row | {
                    "max_size_usd": dec(p.max_size), "max_collateral_usd": dec(p.max_collateral),
                    "realized_pnl_usd": dec(p.realized), "fees_usd": dec(p.fees),
                    "funding_usd": dec(p.funding), "actions": p.actions,
                }
                w.writerow([r[c] for c in POSITION_COLUMNS])
        with (self.directory / "daily_pnl.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(DAILY_COLUMNS)
            for (platform, trader, date), d in sorted(self.days.items()):
                w.writerow([
                    platform, trader, date, dec(d.realized), dec(d.fees), dec(d.funding),
                    dec(d.volume), d.trades, d.liquidations, d.in_range, d.before_range,
                ])
        with (self.directory / "traders.csv").open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(traders[0]) if traders else ["trader"])
            w.writeheader()
            w.writerows(traders)
        status = defaultdict(int)
        for p in self.positions.values():
            status[p.row["status"]] += 1
        manifest = manifest | {
            "format_version": FORMAT_VERSION,
            "counts": {"actions": self.count, "positions": len(self.positions), **status},
        }
        (self.directory / "manifest.json").write_text(json.dumps(manifest, indent=1, default=_json) + "\n")
        return manifest


def _json(value):
    if isinstance(value, RegistryRow):
        return asdict(value)
    if isinstance(value, Decimal):
        return dec(value)
    raise TypeError(type(value))
