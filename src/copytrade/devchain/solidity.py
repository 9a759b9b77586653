"""Compile the venue emulator contracts with solcjs and load the committed artifacts.

Artifacts (ABI + creation bytecode) are committed under ``artifacts/`` so that running the
dev chain needs no compiler; ``make contracts`` (``python -m copytrade.devchain.solidity``)
rebuilds them from ``contracts/*.sol`` with the npm ``solc`` package, offline.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
CONTRACTS = HERE / "contracts"
ARTIFACTS = HERE / "artifacts"


def _solcjs() -> Path:
    from copytrade.config import find_project_root

    path = find_project_root(HERE) / "node_modules" / ".bin" / "solcjs"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `npm ci` (make bootstrap) first")
    return path


def compile_all() -> dict[str, dict]:
    """Compile every ``contracts/*.sol``; returns {contract name: {abi, bytecode}}."""
    sources = {p.name: {"content": p.read_text()} for p in sorted(CONTRACTS.glob("*.sol"))}
    request = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "viaIR": True,
            "evmVersion": "cancun",
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    result = subprocess.run(
        [str(_solcjs()), "--standard-json"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    # solcjs may print warnings before the JSON document.
    output = json.loads(result.stdout[result.stdout.index("{") :])
    errors = [e for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise RuntimeError("\n".join(e["formattedMessage"] for e in errors))
    artifacts = {}
    for unit in output["contracts"].values():
        for name, data in unit.items():
            bytecode = data["evm"]["bytecode"]["object"]
            if bytecode:  # skip abstract contracts
                artifacts[name] = {"abi": data["abi"], "bytecode": "0x" + bytecode}
    return artifacts


def write_artifacts() -> list[Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    written = []
    for name, artifact in sorted(compile_all().items()):
        path = ARTIFACTS / f"{name}.json"
        path.write_text(json.dumps(artifact, indent=1, sort_keys=True) + "\n")
        written.append(path)
    return written


@cache
def artifact(name: str) -> dict:
    """The committed ABI and bytecode of one emulator contract."""
    path = ARTIFACTS / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no artifact {path}; run `make contracts`")
    return json.loads(path.read_text())


if __name__ == "__main__":  # `make contracts`
    for p in write_artifacts():
        print(f"wrote {p.relative_to(HERE.parent.parent.parent)}")
    sys.exit(0)
