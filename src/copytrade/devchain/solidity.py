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


def compile_all(only: list[str] | None = None) -> dict[str, dict]:
    """Compile ``contracts/*.sol`` (or just the named files); {contract name: {abi, bytecode}}."""
    files = sorted(CONTRACTS.glob("*.sol"))
    if only:
        files = [p for p in files if p.name in only]
        missing = set(only) - {p.name for p in files}
        if missing:
            raise FileNotFoundError(f"no such contract source(s): {sorted(missing)}")
    sources = {p.name: {"content": p.read_text()} for p in files}
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


def write_artifacts(only: list[str] | None = None) -> list[Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    written = []
    for name, artifact in sorted(compile_all(only).items()):
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


if __name__ == "__main__":  # `make contracts` (or name .sol files to build just those)
    for p in write_artifacts(sys.argv[1:] or None):
        print(f"wrote {p.relative_to(HERE.parent.parent.parent)}")
    sys.exit(0)
