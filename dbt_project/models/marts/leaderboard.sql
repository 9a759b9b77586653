{#- Trader statistics per platform and window (7D, 30D, 90D, ALL), as of the newest day of
    the history (not the wall clock: the same data gives the same board).

    - pnl / volume / fees / funding / trades / liquidations: the days in the window
      (pnl_snapshot_v2 DAY rows);
    - roi: pnl / collateral deposited in the window;
    - wins, losses, win_rate, profit_factor, avg_leverage, avg_duration: positions closed in
      the window;
    - max_drawdown_usd: the largest fall of the cumulative realized PnL (daily closes, UTC)
      from its running peak, within the window;
    - r2 / slope: linear fit of the cumulative realized PnL of closed positions against
      their close order (slope = USD per closed position): the steadiness of the curve.
    A table rebuilt each run from the two smaller marts, not from the event log. -#}

with

days as (
    select * from {{ ref('pnl_snapshot_v2') }} where kind = 'DAY'
),

positions as (
    select * from {{ ref('positions') }}
),

events as (
    select * from {{ ref('perp_trading_event_log') }}
),

as_of as (
    select max(date) as as_of_date from days
),

windows as (
    select name, case when days_back is null then null else as_of_date - days_back end as after_date
    from as_of, (values ('7D', 7), ('30D', 30), ('90D', 90), ('ALL', null)) as w(name, days_back)
),

window_days as (
    select w.name as window_name, d.*
    from days d
    join windows w on w.after_date is null or d.date > w.after_date
),

activity as (
    select
        window_name, platform, trader,
        sum(pnl_usd) as pnl_usd,
        sum(volume_usd) as volume_usd,
        sum(fees_usd) as fees_usd,
        sum(funding_usd) as funding_usd,
        sum(trades) as trades,
        sum(liquidations) as liquidations,
        max(date) as last_trade_date
    from window_days
    group by 1, 2, 3
),

deposits as (
    select w.name as window_name, e.platform, e.trader, sum(e.collateral_delta_usd) as deposited_usd
    from events e
    join windows w on w.after_date is null or (e.block_time at time zone 'UTC')::date > w.after_date
    where e.collateral_delta_usd > 0
    group by 1, 2, 3
),

curve as (
    select
        window_name, platform, trader,
        sum(pnl_usd) over (partition by window_name, platform, trader order by date) as cumulative_pnl,
        date
    from window_days
),

drawdowns as (
    select window_name, platform, trader, max(peak - cumulative_pnl) as max_drawdown_usd
    from (
        select *, greatest(0, max(cumulative_pnl) over (
            partition by window_name, platform, trader order by date rows between unbounded preceding and current row
        )) as peak
        from curve
    ) peaks
    group by 1, 2, 3
),

closed as (
    select
        w.name as window_name, p.*,
        row_number() over (partition by w.name, p.platform, p.trader order by p.closed_at, p.position_id) as close_ordinal,
        sum(p.realized_pnl_usd) over (
            partition by w.name, p.platform, p.trader order by p.closed_at, p.position_id
            rows between unbounded preceding and current row
        ) as cumulative_closed_pnl
    from positions p
    join windows w on p.closed_at is not null
        and (w.after_date is null or (p.closed_at at time zone 'UTC')::date > w.after_date)
),

outcomes as (
    select
        window_name, platform, trader,
        count(*) filter (where realized_pnl_usd > 0) as wins,
        count(*) filter (where realized_pnl_usd <= 0) as losses,
        sum(realized_pnl_usd) filter (where realized_pnl_usd > 0) as gross_profit_usd,
        -sum(realized_pnl_usd) filter (where realized_pnl_usd < 0) as gross_loss_usd,
        avg(leverage) as avg_leverage,
        avg(duration) as avg_duration,
        regr_r2(cumulative_closed_pnl::float8, close_ordinal::float8) as r2,
        regr_slope(cumulative_closed_pnl::float8, close_ordinal::float8) as slope
    from closed
    group by 1, 2, 3
),

board as (
    select
        a.window_name,
        a.platform,
        a.trader,
        a.pnl_usd,
        case when dep.deposited_usd > 0 then a.pnl_usd / dep.deposited_usd end as roi,
        a.volume_usd,
        a.fees_usd,
        a.funding_usd,
        a.trades,
        coalesce(o.wins, 0) as wins,
        coalesce(o.losses, 0) as losses,
        a.liquidations,
        case when coalesce(o.wins, 0) + coalesce(o.losses, 0) > 0
             then o.wins::numeric / (o.wins + o.losses) end as win_rate,
        case when o.gross_loss_usd > 0 then coalesce(o.gross_profit_usd, 0) / o.gross_loss_usd end as profit_factor,
        coalesce(d.max_drawdown_usd, 0) as max_drawdown_usd,
        o.avg_leverage,
        o.avg_duration,
        o.r2,
        o.slope,
        a.last_trade_date
    from activity a
    left join outcomes o using (window_name, platform, trader)
    left join drawdowns d using (window_name, platform, trader)
    left join deposits dep using (window_name, platform, trader)
)

select
    *,
    rank() over (partition by window_name, platform order by pnl_usd desc, trader) as rank,
    (select as_of_date from as_of) as as_of_date
from board
