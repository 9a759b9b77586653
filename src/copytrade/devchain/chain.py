"""The dev chain as a whole: anvil + deployed venue emulators + a seeded scenario.

State lives in ``<COPYTRADE_HOME>/devchain/``: ``anvil.json`` (the process), ``deployment.json``
(contract addresses and deploy blocks), ``registry.yaml`` (the dev-chain rows of the
contract registry) and ``ground_truth/`` (the scenario's ledger, see :mod:`ground_truth`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from copytrade.devchain.anvil import BLOCK_TIME, CHAIN_ID, DEFAULT_GENESIS, Anvil, AnvilInfo
from copytrade.devchain.emitter import Emitter
from copytrade.devchain.ground_truth import LedgerWriter, Resolver
from copytrade.devchain.markets import MARKETS
from copytrade.devchain.model import Venue
from copytrade.devchain.prices import simulate_path
from copytrade.devchain.rpc import DevRpc
from copytrade.devchain.scenario import Clock, Scenario
from copytrade.devchain.traders import make_population
from copytrade.devchain.venues.gmx_v1 import GmxV1Venue
from copytrade.devchain.venues.gmx_v2 import GmxV2Venue
from copytrade.devchain.venues.gtrade import GTradeVenue
from copytrade.devchain.venues.synthetix import SynthetixVenue
from copytrade.venues.registry import RegistryRow, read_rows

SCENARIO_OFFSET = 3_600  # activity starts an hour after genesis, after the deployments
DAY = 86_400

# share of traders per venue deployment
VENUE_WEIGHTS = {
    "gmx_v1.devchain.vault": 0.28,
    "gmx_v1.devchain.vault_avalanche": 0.07,
    "gmx_v2.devchain.event_emitter": 0.27,
    "gtrade.devchain.diamond": 0.22,
    "synthetix_perps_v2.devchain": 0.16,
}
EARLY_BIRD_VENUE = "gmx_v1.devchain.vault"


class DevChainError(RuntimeError):
    pass


@dataclass(frozen=True)
class ScenarioParams:
    traders: int
    days: int
    seed: int
    window: int = 300

    def validate(self) -> None:
        if self.traders < 1:
            raise DevChainError("--traders must be at least 1")
        if self.days < 1:
            raise DevChainError("--days must be at least 1")
        if self.window % BLOCK_TIME or 3_600 % self.window:
            raise DevChainError(
                f"--window must be a multiple of the {BLOCK_TIME}s block time that divides an hour"
                f" (e.g. 60, 300, 600), not {self.window}"
            )


@dataclass(frozen=True)
class Milestones:
    """Blocks where the scenario changes something about the contracts."""

    start_time: int
    end_time: int
    indexed_from_block: int  # GMX v1 vault's registry range starts here (history before it)
    early_bird_until: int
    gtrade_upgrade_block: int  # gTrade diamond v9 -> v10, in place
    synthetix_shape_block: int  # Synthetix's April-2023 event shapes from here

    @classmethod
    def plan(cls, genesis: int, params: ScenarioParams) -> Milestones:
        start = genesis + SCENARIO_OFFSET
        span = params.days * DAY
        w = params.window
        warmup = max(w, min(DAY, int(span * 0.1)) // w * w)

        def block_at(t: int) -> int:
            return (t - genesis) // BLOCK_TIME

        return cls(
            start_time=start,
            end_time=start + span,
            indexed_from_block=block_at(start + warmup),
            early_bird_until=start + warmup,
            gtrade_upgrade_block=block_at(start + span // 2 // w * w),
            synthetix_shape_block=block_at(start + int(span * 0.4) // w * w),
        )


def build_venues(genesis: int, milestones: Milestones | None) -> list[Venue]:
    """The venue emulators of the dev chain; ``milestones`` None means "just deployed"."""
    far = 10**12
    return [
        GmxV1Venue("gmx_v1.devchain.vault", "arbitrum", genesis,
                   indexed_from_block=milestones.indexed_from_block if milestones else 0),
        GmxV1Venue("gmx_v1.devchain.vault_avalanche", "avalanche", genesis),
        GmxV2Venue(genesis),
        GTradeVenue(genesis, upgrade_block=milestones.gtrade_upgrade_block if milestones else far),
        SynthetixVenue(genesis, shape_switch_block=milestones.synthetix_shape_block if milestones else far),
    ]


class DevChain:
    def __init__(self, home: Path, port: int) -> None:
        self.dir = home / "devchain"
        self.port = port
        self.anvil = Anvil(self.dir)
        self.deployment_file = self.dir / "deployment.json"
        self.registry_file = self.dir / "registry.yaml"
        self.ground_truth_dir = self.dir / "ground_truth"

    # -- lifecycle --------------------------------------------------------------------------
    def up(self, genesis: int = DEFAULT_GENESIS, keep_history: bool = False) -> tuple[AnvilInfo, bool]:
        """Start anvil and deploy the emulators; (info, whether anything was started)."""
        running = self.anvil.info()
        if running is not None and self.deployment_file.exists():
            return running, False
        info = self.anvil.start(self.port, genesis, keep_history)
        with DevRpc(info.url) as rpc:
            sender = rpc.accounts()[0]
            venues = build_venues(info.genesis_time, None)
            deployed: dict[str, tuple[str, int]] = {}
            for venue in venues:
                deployed.update(venue.deploy(rpc, sender))
        self._save_deployment({"contracts": deployed, "sender": sender, "seeded": None})
        self._write_registry([r for v in venues for r in v.registry_rows(CHAIN_ID)])
        return info, True

    def down(self) -> int | None:
        pid = self.anvil.stop()
        self.deployment_file.unlink(missing_ok=True)
        self.registry_file.unlink(missing_ok=True)
        return pid

    def info(self) -> AnvilInfo:
        info = self.anvil.info()
        if info is None or not self.deployment_file.exists():
            raise DevChainError("the dev chain is not running: `copytrade devchain up` first")
        return info

    def deployment(self) -> dict:
        return json.loads(self.deployment_file.read_text())

    def _save_deployment(self, data: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.deployment_file.write_text(json.dumps(data, indent=1))

    def _write_registry(self, rows: list[RegistryRow]) -> None:
        header = "# Dev-chain rows of the contract registry, written by `copytrade devchain`.\n"
        self.registry_file.write_text(header + yaml.safe_dump([asdict(r) for r in rows], sort_keys=False))

    def registry_rows(self) -> list[RegistryRow]:
        return read_rows(self.registry_file)

    # -- seeding ----------------------------------------------------------------------------
    def seed(
        self, params: ScenarioParams, progress: Callable[[int, int, int], None] | None = None
    ) -> dict:
        """Generate the scenario, put it on chain and write the ground truth.

        ``progress(day, days, logs_so_far)`` is called after every simulated day.
        """
        params.validate()
        info = self.info()
        deployment = self.deployment()
        if deployment.get("seeded"):
            raise DevChainError(
                "this dev chain is already seeded; `copytrade devchain down && copytrade devchain up`"
                " gives a fresh one"
            )
        started = time.perf_counter()
        genesis = info.genesis_time
        milestones = Milestones.plan(genesis, params)
        clock = Clock(genesis, BLOCK_TIME, params.window)
        venues = build_venues(genesis, milestones)
        deployed = {k: tuple(v) for k, v in deployment["contracts"].items()}
        for venue in venues:
            venue.attach({k: deployed[k] for k in venue.contract_keys()})
        addresses = {k: a for k, (a, _) in deployed.items()}
        rows = [r for v in venues for r in v.registry_rows(CHAIN_ID)]

        venue_markets = {v.trader_key: v.markets() for v in venues}
        by_group = {v.trader_key: v for v in venues}
        traders = make_population(params.traders, params.seed, venue_markets, VENUE_WEIGHTS, EARLY_BIRD_VENUE)
        symbols = sorted({m for t in traders for m in t.markets})
        paths = {s: simulate_path(MARKETS[s], params.seed, milestones.start_time, params.days + 1) for s in symbols}
        scenario = Scenario(
            traders, by_group, paths, clock, milestones.start_time, milestones.end_time,
            params.seed, milestones.early_bird_until,
        )

        with DevRpc(info.url) as rpc:
            emitter = Emitter(rpc, deployment["sender"], venues, addresses, BLOCK_TIME)
            ledger = LedgerWriter(self.ground_truth_dir, Resolver(rows), addresses, CHAIN_ID, scenario.position_uid)
            for day in range(params.days):
                steps = scenario.advance(milestones.start_time + (day + 1) * DAY)
                emitter.emit(steps)
                ledger.write(steps)
                if progress:
                    progress(day + 1, params.days, emitter.stats.logs)
            emitter.finish((milestones.end_time - genesis) // BLOCK_TIME)
            head = rpc.block_number()
        elapsed = time.perf_counter() - started
        self._write_registry(rows)
        manifest = ledger.close(
            [
                {"trader": t.address, "index": t.index, "style": t.style.name, "venue": t.venue_key,
                 "platform": by_group[t.venue_key].platform, "markets": " ".join(t.markets)}
                for t in traders
            ],
            {
                "params": asdict(params),
                "chain": {"chain_id": CHAIN_ID, "genesis_time": genesis, "block_time": BLOCK_TIME,
                          "head": head, "rpc_url": info.url},
                "milestones": asdict(milestones),
                "contracts": deployment["contracts"],
                "registry": rows,
                "emitted": asdict(emitter.stats),
                "rejected_intents": scenario.rejected,
                "elapsed_seconds": round(elapsed, 2),
                "logs_per_second": round(emitter.stats.logs / elapsed, 1) if elapsed else None,
            },
        )
        self._save_deployment(deployment | {"seeded": asdict(params)})
        return manifest
