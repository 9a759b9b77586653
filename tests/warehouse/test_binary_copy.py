"""The vectorized binary COPY encoder round-trips exactly through a real PostgreSQL."""

from __future__ import annotations

import random

import numpy as np
import psycopg
import pytest

from copytrade.config import plain_pg_url
from copytrade.warehouse import binary_copy as bc
from copytrade.warehouse.copy import copy_payload

MAX_UINT = 2**256 - 1


def words(values: list[int]) -> np.ndarray:
    return np.frombuffer(b"".join((v % 2**256).to_bytes(32, "big") for v in values), np.uint8).reshape(len(values), 32)


@pytest.fixture
def conn(stack):
    with psycopg.connect(plain_pg_url(stack.endpoints.database_url), autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS app.copy_probe")
        c.execute(
            "CREATE TABLE app.copy_probe (i4 integer, i8 bigint, b boolean, h text, u numeric(78,0),"
            " s numeric(78,0), small numeric(20,0), neg numeric(20,0), raw bytea, nothing text)"
        )
        yield c
        c.execute("DROP TABLE app.copy_probe")


def test_round_trip(conn):
    rng = random.Random(7)
    unsigned = [0, 1, 9_999, 10_000, 10**30, 2**64 - 1, 2**64, 2**128 + 12345, MAX_UINT]
    unsigned += [rng.getrandbits(rng.choice([8, 64, 100, 200, 256])) for _ in range(300)]
    n = len(unsigned)
    signed = [(-1) ** i * rng.getrandbits(rng.choice([1, 60, 130, 255])) for i in range(n)]
    signed[:3] = [-(2**255), 2**255 - 1, -1]
    small = [rng.getrandbits(64) for _ in range(n)]
    neg = [rng.randrange(-(2**63), 2**63) for _ in range(n)]
    i4 = np.array([rng.randrange(-(2**31), 2**31) for _ in range(n)], np.int64)
    i8 = np.array([rng.randrange(-(2**63), 2**63) for _ in range(n)], np.int64)
    flags = np.array([rng.random() < 0.5 for _ in range(n)])
    hexes = np.frombuffer(rng.randbytes(20 * n), np.uint8).reshape(n, 20)
    raw = np.frombuffer(rng.randbytes(7 * n), np.uint8).reshape(n, 7)
    fields = [
        bc.int4(i4), bc.int8(i8), bc.boolean(flags), bc.hex_text(hexes),
        bc.numeric_words(words(unsigned), signed=False), bc.numeric_words(words(signed), signed=True),
        bc.numeric_uint64(np.array(small, np.uint64)), bc.numeric_int64(np.array(neg, np.int64)),
        bc.raw_bytes(raw), bc.null(n),
    ]
    copy_payload(conn, "app", "copy_probe", ["i4", "i8", "b", "h", "u", "s", "small", "neg", "raw", "nothing"], [bc.rows(fields)])
    rows = conn.execute("SELECT i4, i8, b, h, u, s, small, neg, raw, nothing FROM app.copy_probe").fetchall()
    assert len(rows) == n
    for k, row in enumerate(rows):
        assert row == (
            int(i4[k]), int(i8[k]), bool(flags[k]), "0x" + hexes[k].tobytes().hex(), unsigned[k], signed[k],
            small[k], neg[k], raw[k].tobytes(), None,
        )
