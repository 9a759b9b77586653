"""The vectorized engine equals the plain reference replay, variant by variant."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from copytrade.simulation.engine import STATS, Variants, replay
from tests.simulation.reference import run_reference
from tests.simulation.scenarios import histories, settings

COMPARED = [s for s in STATS if s != "peak"] + ["peak"]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(history=histories(), variants=st.lists(settings(), min_size=1, max_size=6))
def test_engine_equals_reference(history, variants):
    events, prices = history
    result = replay(events, prices, Variants.build(variants, events.platforms, events.markets))
    for v, s in enumerate(variants):
        bots, plan = run_reference(events, prices, s)
        for b, expected in enumerate(bots):
            for name in COMPARED:
                got = result.stats[b, v, STATS.index(name)]
                assert close(got, expected[name]), (name, b, v, got, expected[name], s)
        assert close(result.plan_stats[v, 0], plan["peak"])
        assert close(result.plan_stats[v, 1], plan["max_drawdown_usd"])
        assert close(result.plan_stats[v, 2], plan["max_drawdown_pct"])
