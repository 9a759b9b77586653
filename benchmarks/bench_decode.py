"""Decoding speed: 100,000 GMX v1 IncreasePosition logs, ours against web3.py and eth_abi.

    .venv/bin/python benchmarks/bench_decode.py [--logs 100000] [--web3-sample 2000]

The logs are built from the emulator's ABI (the dev chain's GmxV1VaultArbitrum artifact, the same
signature as the official Vault ABI) with random realistic values; no chain is needed. In
one run it measures, in logs per second:

* web3.py ``contract.events.IncreasePosition().process_log`` (on a subsample, scaled);
* eth_abi ``decode`` of the data, log by log;
* ours: :func:`copytrade.venues.decode.decode` (numpy bulk), and decode + ``to_pylist()``
  of every column;
* parsing the JSON ``eth_getLogs`` response body of those logs with ``json.loads``,
  ``orjson.loads`` and ``orjson.loads`` with the garbage collector paused, and
  ``LogBatch.from_rpc`` of the parsed logs (for scale);

prints them with the ratios ours / web3 and ours / eth_abi (goal: >= 500k logs/s for the
numpy decode on one core and >= 400x web3) and writes benchmarks/results/decode.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import orjson
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from web3 import Web3

from copytrade.chain.logs import LogBatch
from copytrade.devchain.solidity import artifact
from copytrade.venues.decode import decode
from copytrade.venues.spec import specs_from_abi

RESULTS = Path(__file__).resolve().parent / "results" / "decode.json"
GOAL_LOGS_PER_SECOND = 500_000
GOAL_VS_WEB3 = 400
USD = 10**30


def emulator_event() -> dict:
    abi = artifact("GmxV1VaultArbitrum")["abi"]
    return next(e for e in abi if e.get("type") == "event" and e["name"] == "IncreasePosition")


def make_logs(n: int, event: dict, seed: int = 1) -> list[dict]:
    """``n`` JSON-RPC log objects of IncreasePosition with realistic values."""
    rng = random.Random(seed)
    types = [i["type"] for i in event["inputs"]]
    sig = f"{event['name']}({','.join(types)})"
    topic0 = "0x" + Web3.keccak(text=sig).hex().removeprefix("0x")
    traders = ["0x" + rng.randbytes(20).hex() for _ in range(2_000)]
    tokens = ["0x" + rng.randbytes(20).hex() for _ in range(6)]
    vault = "0x489ee077994b6658eafa855c308275ead8097c4a"
    logs = []
    block = 150_000_000
    for i in range(n):
        if i % 7 == 0:
            block += rng.randint(1, 4)
        price = rng.randint(1, 100_000) * USD // 100 + rng.randint(0, 10**27)
        size = rng.randint(10, 2_000_000) * USD
        collateral = size // rng.randint(2, 50)
        values = [
            rng.randbytes(32), rng.choice(traders), rng.choice(tokens), rng.choice(tokens),
            collateral, size, rng.random() < 0.5, price, size // 1_000,
        ]
        logs.append({
            "address": vault, "topics": [topic0], "data": "0x" + abi_encode(types, values).hex(),
            "blockNumber": hex(block), "blockHash": "0x" + rng.randbytes(32).hex(),
            "transactionHash": "0x" + rng.randbytes(32).hex(), "transactionIndex": hex(i % 40),
            "logIndex": hex(i % 300), "removed": False,
        })
    return logs


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logs", type=int, default=100_000)
    parser.add_argument("--web3-sample", type=int, default=2_000)
    parser.add_argument("--eth-abi-sample", type=int, default=20_000)
    args = parser.parse_args()
    n = args.logs
    event = emulator_event()
    print(f"building {n:,} IncreasePosition logs ...", flush=True)
    logs = make_logs(n, event)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": logs}).encode()

    # JSON parsing of the eth_getLogs response body
    t_json = best_of(lambda: json.loads(body))
    t_orjson = best_of(lambda: orjson.loads(body))

    def orjson_nogc():
        gc.disable()
        try:
            orjson.loads(body)
        finally:
            gc.enable()

    t_orjson_nogc = best_of(orjson_nogc)

    t_from_rpc = best_of(lambda: LogBatch.from_rpc(42161, logs))
    batch = LogBatch.from_rpc(42161, logs)
    specs = {s.topic0: s for s in specs_from_abi([event], "gmx", "v1", "gmx_v1/Vault.arbitrum.abi.json")}

    # ours
    result = decode(batch, specs)
    assert not result.quarantine and len(result.tables) == 1 and len(result.tables[0]) == n
    t_ours = best_of(lambda: decode(batch, specs), 5)

    def ours_pylist():
        r = decode(batch, specs)
        for t in r.tables:
            for c in t.columns.values():
                c.to_pylist()

    t_ours_py = best_of(ours_pylist, 3)

    # eth_abi per log (subsample, scaled)
    types = [i["type"] for i in event["inputs"]]
    m = min(n, args.eth_abi_sample)
    datas = batch.data[:m]

    def eth_abi_all():
        for d in datas:
            abi_decode(types, d)

    t_abi = best_of(eth_abi_all, 2) * n / m

    # web3.py process_log (subsample, scaled)
    w3 = Web3()
    contract = w3.eth.contract(address=Web3.to_checksum_address(logs[0]["address"]), abi=[event])
    handler = contract.events.IncreasePosition()
    k = min(n, args.web3_sample)
    receipts = [
        {
            "address": Web3.to_checksum_address(lg["address"]), "topics": [bytes.fromhex(t[2:]) for t in lg["topics"]],
            "data": bytes.fromhex(lg["data"][2:]), "blockNumber": int(lg["blockNumber"], 16),
            "blockHash": bytes.fromhex(lg["blockHash"][2:]), "transactionHash": bytes.fromhex(lg["transactionHash"][2:]),
            "transactionIndex": int(lg["transactionIndex"], 16), "logIndex": int(lg["logIndex"], 16),
            "removed": False,
        }
        for lg in logs[:k]
    ]
    sample = handler.process_log(receipts[0])
    ours_first = result.tables[0].columns
    assert sample["args"]["sizeDelta"] == ours_first["size_delta"].to_pylist()[0]

    def web3_all():
        for r in receipts:
            handler.process_log(r)

    t_web3 = best_of(web3_all, 1) * n / k

    figures = {
        "logs": n,
        "web3_process_log_per_s": round(rate(n, t_web3)),
        "eth_abi_decode_per_s": round(rate(n, t_abi)),
        "ours_numpy_decode_per_s": round(rate(n, t_ours)),
        "ours_decode_to_pylist_per_s": round(rate(n, t_ours_py)),
        "json_loads_per_s": round(rate(n, t_json)),
        "orjson_loads_per_s": round(rate(n, t_orjson)),
        "orjson_loads_gc_paused_per_s": round(rate(n, t_orjson_nogc)),
        "logbatch_from_rpc_per_s": round(rate(n, t_from_rpc)),
    }
    ratios = {
        "ours_vs_web3": round(t_web3 / t_ours, 1),
        "ours_vs_eth_abi": round(t_abi / t_ours, 1),
        "ours_pylist_vs_web3": round(t_web3 / t_ours_py, 1),
        "ours_pylist_vs_eth_abi": round(t_abi / t_ours_py, 1),
        "orjson_vs_json": round(t_json / t_orjson, 2),
    }
    goals = {
        "numpy_decode_logs_per_s": GOAL_LOGS_PER_SECOND,
        "numpy_decode_vs_web3": GOAL_VS_WEB3,
        "met": figures["ours_numpy_decode_per_s"] >= GOAL_LOGS_PER_SECOND and ratios["ours_vs_web3"] >= GOAL_VS_WEB3,
    }
    samples = {"web3_sample": k, "eth_abi_sample": m, "response_body_bytes": len(body)}
    width = max(map(len, figures))
    print(f"\n{'':{width}}  logs/s")
    for key, value in figures.items():
        if key != "logs":
            print(f"{key:{width}}  {value:>12,}")
    print()
    for key, value in ratios.items():
        print(f"{key:{width}}  {value:>12,}x")
    print(f"\ngoal: >= {GOAL_LOGS_PER_SECOND:,} logs/s and >= {GOAL_VS_WEB3}x web3: {'met' if goals['met'] else 'NOT met'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "command": " ".join([".venv/bin/python benchmarks/bench_decode.py", *sys.argv[1:]]),
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count()},
        "figures_logs_per_second": figures, "ratios": ratios, "goals": goals, "samples": samples,
    }, indent=1) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
