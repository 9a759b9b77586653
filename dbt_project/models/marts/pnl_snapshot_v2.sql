{#- Accumulated realized PnL per platform x trader x day, for five windows ending that day:
    DAY (the day itself), WEEK / MONTH / THREE_MONTH (the trailing 7 / 30 / 90 days) and
    ALL_TIME (since the start of the indexed history). One row per window on every day the
    trader acted; volume, fees, funding, trades and liquidations accumulate over the same
    window. Days are UTC. -#}

with

events as (
    select * from {{ ref('perp_trading_event_log') }}
),

daily as (
    select
        platform,
        trader,
        (block_time at time zone 'UTC')::date as date,
        sum(realized_pnl_usd) as pnl_usd,
        sum(fee_usd) as fees_usd,
        sum(funding_usd) as funding_usd,
        coalesce(sum(size_delta_usd) filter (where action in ('OPEN', 'INCREASE', 'DECREASE', 'CLOSE', 'LIQUIDATE')), 0) as volume_usd,
        count(*) filter (where action in ('OPEN', 'INCREASE', 'DECREASE', 'CLOSE', 'LIQUIDATE')) as trades,
        count(*) filter (where action = 'LIQUIDATE') as liquidations
    from events
    group by 1, 2, 3
),

{%- set windows = [('DAY', 0), ('WEEK', 6), ('MONTH', 29), ('THREE_MONTH', 89)] %}

windowed as (
    select
        platform, trader, date,
        {%- for kind, back in windows %}
        {%- for measure in ['pnl_usd', 'fees_usd', 'funding_usd', 'volume_usd', 'trades', 'liquidations'] %}
        sum({{ measure }}) over (
            partition by platform, trader order by date
            range between interval '{{ back }} days' preceding and current row
        ) as {{ kind | lower }}_{{ measure }},
        {%- endfor %}
        {%- endfor %}
        {%- for measure in ['pnl_usd', 'fees_usd', 'funding_usd', 'volume_usd', 'trades', 'liquidations'] %}
        sum({{ measure }}) over (
            partition by platform, trader order by date rows between unbounded preceding and current row
        ) as all_time_{{ measure }}{{ "," if not loop.last }}
        {%- endfor %}
    from daily
)

{% for kind, _ in windows + [('ALL_TIME', None)] %}
select
    platform,
    trader,
    date,
    '{{ kind }}'::text as kind,
    {{ kind | lower }}_pnl_usd as pnl_usd,
    {{ kind | lower }}_fees_usd as fees_usd,
    {{ kind | lower }}_funding_usd as funding_usd,
    {{ kind | lower }}_volume_usd as volume_usd,
    {{ kind | lower }}_trades as trades,
    {{ kind | lower }}_liquidations as liquidations
from windowed
{% if not loop.last %}union all{% endif %}
{% endfor %}
