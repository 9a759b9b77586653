"""Cases worked out by hand (numbers in the comments), engine and reference alike."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from copytrade.simulation.events import LeaderEvents, PriceSeries
from copytrade.simulation.results import simulate
from copytrade.simulation.settings import CopySettings, settings_error
from tests.simulation.reference import run_reference

FREE = CopySettings.costless(min_leverage=0.5, max_leverage=100)


def ev(t, action, size_delta, size_after, coll, price, *, uid=1, long=True, leader="0xaa", market="ETH/USD",
       platform="gmx", pnl=0.0, funding=0.0):
    return {"time": t, "leader": leader, "position_uid": uid, "market": market, "platform": platform, "is_long": long,
                "action": action, "size_delta": size_delta, "size_after": size_after, "collateral_after": coll, "price": price,
                "fee": 0.0, "funding": funding, "realized_pnl": pnl}


def run(rows, settings, observations=()):
    events = LeaderEvents.from_rows(rows)
    obs = [(r["time"], r["market"], r["price"]) for r in rows] + list(observations)
    prices = PriceSeries.from_rows(obs, events.markets)
    plan = simulate(events, prices, settings)[0]
    bots, _ = run_reference(events, prices, settings)
    assert plan.bots[0].metrics.follower_pnl == pytest.approx(bots[0]["gross_pnl"], abs=1e-9)
    return plan.metrics


def test_reverse_copy_of_a_loser():
    # leader: long 10,000 USD at 2,000 with 1,000 collateral, closed at 1,800: -1,000
    rows = [ev(0, "OPEN", 10_000, 10_000, 1_000, 2_000), ev(3600, "CLOSE", 10_000, 0, 0, 1_800, pnl=-1_000)]
    m = run(rows, FREE.model_copy(update={"mode": "reverse"}))
    assert m.follower_pnl == pytest.approx(1_000)  # short 5 ETH from 2,000 to 1,800
    assert m.leader_pnl == pytest.approx(-1_000)
    # with a 10 bps fee on both fills (10,000 notional each): 1,000 - 2 x 10
    paid = run(rows, CopySettings(mode="reverse", fee_bps={"gmx": 10}, funding=False))
    assert paid.fees == pytest.approx(20) and paid.net_pnl == pytest.approx(980)


def test_partial_closes():
    # long 10,000 at 100 (100 units); -30% at 110: 0.3 x (100 x 110 - 10,000) = +300;
    # half of the rest (3,500) at 90: 0.5 x (70 x 90 - 7,000) = -350; the rest at 120: 35 x 120 - 3,500 = +700
    rows = [ev(0, "OPEN", 10_000, 10_000, 2_000, 100), ev(60, "DECREASE", 3_000, 7_000, 1_400, 110),
            ev(120, "DECREASE", 3_500, 3_500, 700, 90), ev(180, "CLOSE", 3_500, 0, 0, 120)]
    m = run(rows, FREE)
    assert m.follower_pnl == pytest.approx(650)
    assert m.trades == 4 and m.wins == 1
    # ratio 0.5: every amount halves
    assert run(rows, FREE.model_copy(update={"ratio": 0.5})).follower_pnl == pytest.approx(325)


def test_follower_liquidated_on_its_own_margin():
    # leader long at 100 with 2x; follower at fixed 10x with 100 collateral: 1,000 notional,
    # 10 units. At 89 its loss is 110 >= 100 margin: liquidated, losing exactly 100. The
    # leader closes later at 95; the follower has nothing left to close.
    rows = [ev(0, "OPEN", 2_000, 2_000, 1_000, 100), ev(600, "CLOSE", 2_000, 0, 0, 95, pnl=-100)]
    settings = FREE.model_copy(update={"sizing": "fixed", "fixed_collateral_usd": 100, "leverage": "fixed",
                                       "fixed_leverage": 10})
    m = run(rows, settings, observations=[(300, "ETH/USD", 89.0)])
    assert m.liquidations == 1 and m.follower_pnl == pytest.approx(-100)
    assert m.max_drawdown_usd == pytest.approx(100)
    assert m.leader_pnl == pytest.approx(-100)


def test_stop_loss_between_two_leader_events():
    # long 2,000 at 100 with 1,000 margin (20 units); stop at 5% of margin = -50 USD.
    # 98: -40 (holds); 94: -120 (stopped at 94); the leader closes at 97 (-60 for it).
    rows = [ev(0, "OPEN", 2_000, 2_000, 1_000, 100), ev(900, "CLOSE", 2_000, 0, 0, 97, pnl=-60)]
    m = run(rows, FREE.model_copy(update={"stop_loss_pct": 5}),
            observations=[(300, "ETH/USD", 98.0), (600, "ETH/USD", 94.0)])
    assert m.stop_losses == 1 and m.follower_pnl == pytest.approx(-120)
    # without the stop the follower rides to the leader's close
    assert run(rows, FREE, observations=[(300, "ETH/USD", 98.0), (600, "ETH/USD", 94.0)]).follower_pnl == \
        pytest.approx(-60)


def test_take_profit_and_copy_delay():
    rows = [ev(0, "OPEN", 1_000, 1_000, 500, 100), ev(1000, "CLOSE", 1_000, 0, 0, 130)]
    obs = [(10, "ETH/USD", 101.0), (500, "ETH/USD", 120.0)]
    # take profit at 20% of the 500 margin = +100: at 120 the position (10 units) is +200
    assert run(rows, FREE.model_copy(update={"take_profit_pct": 20}), obs).follower_pnl == pytest.approx(200)
    # a 5 s delay fills at the first price at or after t + 5 (101): 1,000 / 101 units, closed at 130
    delayed = run(rows, FREE.model_copy(update={"copy_delay_seconds": 5}), obs)
    assert delayed.follower_pnl == pytest.approx(1_000 / 101 * 130 - 1_000)


def test_slippage_is_itemized():
    rows = [ev(0, "OPEN", 10_000, 10_000, 1_000, 100), ev(60, "CLOSE", 10_000, 0, 0, 100)]
    m = run(rows, CopySettings.costless(slippage_bps=10))
    # bought at 100.1, sold at 99.9: 10,000 / 100.1 x 99.9 - 10,000
    assert m.follower_pnl == 0 and m.slippage == pytest.approx(10_000 - 10_000 / 100.1 * 99.9)
    assert m.net_pnl == pytest.approx(-m.slippage)


@pytest.mark.parametrize(("fields", "named"), [
    ({"ratio": -1}, "ratio"),
    ({"fixed_collateral_usd": -5}, "fixed_collateral_usd"),
    ({"max_leverage": 500}, "max_leverage"),
    ({"min_leverage": 10, "max_leverage": 5}, "min_leverage"),
    ({"leverage": "fixed", "fixed_leverage": 50, "max_leverage": 20}, "fixed_leverage"),
    ({"side": "up"}, "side"),
    ({"no_such_setting": 1}, "no_such_setting"),
])
def test_invalid_settings_name_the_field(fields, named):
    with pytest.raises(ValidationError) as err:
        CopySettings(**fields)
    assert named in settings_error(err.value)
