"""`copytrade logs decode FILE.jsonl` on the REAL Arbitrum logs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from eth_utils import keccak

from tests.conftest import ROOT

CLI = str(Path(sys.executable).parent / "copytrade")
FIXTURE = ROOT / "tests" / "fixtures" / "real_raw_logs_arbitrum.jsonl"
EMITTER = "0xc8ee91a54287db53897056e12d9819156d3822fb"


def test_real_event_emitter_logs_decode(tmp_path):
    result = subprocess.run([CLI, "logs", "decode", str(FIXTURE)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "COPYTRADE_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    inputs = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(outputs) == len(inputs) == 475
    emitter = [(i, o) for i, o in zip(inputs, outputs) if i["address"].lower() == EMITTER]
    assert len(emitter) == 248
    for raw, out in emitter:
        assert "error" not in out, out
        assert out["contract_id"] == "gmx_v2.arbitrum.event_emitter" and out["topic0"] == raw["topics"][0]
        assert "0x" + keccak(text=out["args"]["eventName"]).hex() == raw["topics"][1]
        # EventLogData flattened to key -> value beside eventName / msgSender / topics
        assert set(out["args"]) - {"eventName", "msgSender", "topic1", "topic2"}
    others = [o for i, o in zip(inputs, outputs) if i["address"].lower() != EMITTER]
    assert all("no registry row" in o["error"] for o in others)
