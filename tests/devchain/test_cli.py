"""`copytrade devchain up | seed | down` from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from copytrade.services.process import free_port, pid_alive
from tests.conftest import ROOT

CLI = str(Path(sys.executable).parent / "copytrade")


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_devchain_cli(tmp_path):
    import json
    import os

    env = {**os.environ, "COPYTRADE_HOME": str(tmp_path), "COPYTRADE_ANVIL_PORT": str(free_port()), "COLUMNS": "200"}
    up = run(["devchain", "up"], env)
    assert up.returncode == 0, up.stderr
    assert "gtrade_v9.devchain.diamond" in up.stdout
    info = json.loads((tmp_path / "devchain" / "anvil.json").read_text())
    try:
        again = run(["devchain", "up"], env)
        assert again.returncode == 0 and "already running" in again.stdout
        seed = run(["devchain", "seed", "--traders", "8", "--days", "1", "--seed", "3"], env)
        assert seed.returncode == 0, seed.stderr
        assert "logs/s" in seed.stdout
        manifest = json.loads((tmp_path / "devchain" / "ground_truth" / "manifest.json").read_text())
        assert manifest["params"] == {"traders": 8, "days": 1, "seed": 3, "window": 300}
        assert manifest["emitted"]["logs"] > 0
        bad = run(["devchain", "seed", "--traders", "8", "--days", "1", "--window", "7"], env)
        assert bad.returncode == 1 and "--window" in bad.stderr + bad.stdout
    finally:
        down = run(["devchain", "down"], env)
    assert down.returncode == 0
    assert not pid_alive(info["pid"])
