from tests.indexer.conftest import db, devchain, registry, rows, rpc  # noqa: F401  (shared fixtures)
