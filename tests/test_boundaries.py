"""The domain library never imports Dagster, FastAPI or Strawberry (DESIGN.md §2)."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"dagster", "dagster_dbt", "dagster_postgres", "fastapi", "strawberry", "orchestration", "api"}
LIBRARY = Path(__file__).resolve().parents[1] / "src" / "copytrade"


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_library_modules_do_not_import_frameworks():
    files = [p for p in LIBRARY.rglob("*.py") if p.name != "cli.py"]
    assert len(files) >= 5
    offenders = {str(p.relative_to(LIBRARY)): sorted(imported_roots(p) & FORBIDDEN) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}
