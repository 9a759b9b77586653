"""Configuration: URL handling and which servers a process talks to (pure, no services)."""

from pathlib import Path

from copytrade.config import Settings, mask_url, plain_pg_url, resolve_endpoints, with_driver


def test_mask_url_hides_password_only():
    url = "postgresql://copytrade:s3cr%40t@127.0.0.1:5432/copytrade"
    assert mask_url(url) == "postgresql://copytrade:***@127.0.0.1:5432/copytrade"
    assert mask_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_driver_suffix_round_trip():
    url = "postgresql://u:p@h:1/db"
    assert with_driver(url, "psycopg2") == "postgresql+psycopg2://u:p@h:1/db"
    assert plain_pg_url("postgresql+psycopg2://u:p@h:1/db") == url


def test_local_defaults_when_no_urls(tmp_path: Path, monkeypatch):
    for var in ("DATABASE_URL", "REDIS_URL", "DAGSTER_PG_URL"):
        monkeypatch.delenv(var, raising=False)
    s = Settings(COPYTRADE_HOME=tmp_path, COPYTRADE_PG_PORT=5555, COPYTRADE_REDIS_PORT=6666)
    ep = resolve_endpoints(s)
    assert ep.managed_postgres and ep.managed_redis
    assert "@127.0.0.1:5555/copytrade" in ep.database_url
    assert ep.dagster_pg_url.startswith("postgresql+psycopg2://") and ep.dagster_pg_url.endswith("/dagster")
    assert "@127.0.0.1:6666/0" in ep.redis_url
    # secrets are generated once, private, and stable across resolutions
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
    assert resolve_endpoints(s).database_url == ep.database_url


def test_external_urls_are_used_as_given(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("DAGSTER_PG_URL", raising=False)
    s = Settings(
        COPYTRADE_HOME=tmp_path,
        DATABASE_URL="postgresql://a:b@db.example:5432/x",
        REDIS_URL="redis://cache.example:6379/1",
    )
    ep = resolve_endpoints(s)
    assert not ep.managed_postgres and not ep.managed_redis
    assert ep.database_url == "postgresql://a:b@db.example:5432/x"
    assert ep.dagster_pg_url == "postgresql+psycopg2://a:b@db.example:5432/x"
    assert ep.redis_url == "redis://cache.example:6379/1"
    assert not (tmp_path / "secrets.json").exists()


def test_home_is_not_taken_from_HOME(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("COPYTRADE_HOME", raising=False)
    assert Settings().resolved_home != tmp_path
