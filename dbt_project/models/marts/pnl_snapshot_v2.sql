{#- Accumulated realized PnL per platform x trader x day, for five windows ending that day:
    DAY (the day itself), WEEK / MONTH / THREE_MONTH (the trailing 7 / 30 / 90 days) and
    ALL_TIME (since the start of the indexed history). One row per window on every day the
    trader acted; volume, fees, funding, trades and liquidations accumulate over the same
    window. Days are UTC.

    Incremental: for each trader with events in the block window (or whose events the event
    log removed since the last build), the days from the first such day on are rebuilt: their DAY values from the events, the 89 days before from this
    table's own DAY rows, and ALL_TIME from the last ALL_TIME row before them. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}
            delete from {{ this }} s using (
                {{ pnl_snapshot_touched() }}
            ) t
            where s.platform = t.platform and s.trader = t.trader and s.date >= t.from_date
            {% else %} select 1 {% endif %}",
        post_hook=[
            "{{ record_block_window(ref('perp_trading_event_log')) }}",
            "create index if not exists pnl_snapshot_v2_trader on {{ this }} (platform, trader, date)",
        ],
    )
}}

{%- set measures = ['pnl_usd', 'fees_usd', 'funding_usd', 'volume_usd', 'trades', 'liquidations'] %}
{%- set windows = [('DAY', 0), ('WEEK', 6), ('MONTH', 29), ('THREE_MONTH', 89)] %}

with

events as (
    select * from {{ ref('perp_trading_event_log') }}
),

{% if is_incremental() %}
touched as (
    {{ pnl_snapshot_touched() }}
),
{% endif %}

new_days as (
    select
        e.platform,
        e.trader,
        (e.block_time at time zone 'UTC')::date as date,
        sum(e.realized_pnl_usd) as pnl_usd,
        sum(e.fee_usd) as fees_usd,
        sum(e.funding_usd) as funding_usd,
        coalesce(sum(e.size_delta_usd) filter (where e.action in ('OPEN', 'INCREASE', 'DECREASE', 'CLOSE', 'LIQUIDATE')), 0) as volume_usd,
        count(*) filter (where e.action in ('OPEN', 'INCREASE', 'DECREASE', 'CLOSE', 'LIQUIDATE')) as trades,
        count(*) filter (where e.action = 'LIQUIDATE') as liquidations,
        max(e.block_number) as last_block_number
    from events e
    {% if is_incremental() %}
    join touched t on t.platform = e.platform and t.trader = e.trader
        and e.block_time >= t.from_date::timestamp at time zone 'UTC'
    {% endif %}
    group by 1, 2, 3
),

daily as (
    select *, true as is_new from new_days
    {% if is_incremental() %}
    union all
    -- the trailing days the windows reach back to, as already computed
    select s.platform, s.trader, s.date, {{ measures | join(', ') }}, s.last_block_number, false as is_new
    from {{ this }} s
    join touched t on s.platform = t.platform and s.trader = t.trader
    where s.kind = 'DAY' and s.date >= t.from_date - 89 and s.date < t.from_date
    {% endif %}
),

{% if is_incremental() %}
base as (
    -- ALL_TIME just before the rebuilt days
    select distinct on (s.platform, s.trader) s.platform, s.trader, {{ measures | join(', ') }}
    from {{ this }} s
    join touched t on s.platform = t.platform and s.trader = t.trader
    where s.kind = 'ALL_TIME' and s.date < t.from_date
    order by s.platform, s.trader, s.date desc
),
{% endif %}

windowed as (
    select
        d.platform, d.trader, d.date, d.is_new, d.last_block_number,
        {%- for kind, back in windows %}
        {%- for measure in measures %}
        sum(d.{{ measure }}) over (
            partition by d.platform, d.trader order by d.date
            range between interval '{{ back }} days' preceding and current row
        ) as {{ kind | lower }}_{{ measure }},
        {%- endfor %}
        {%- endfor %}
        {%- for measure in measures %}
        {% if is_incremental() %}coalesce(b.{{ measure }}, 0) + {% endif %}sum(d.{{ measure }}) filter (where d.is_new) over (
            partition by d.platform, d.trader order by d.date rows between unbounded preceding and current row
        ) as all_time_{{ measure }}{{ "," if not loop.last }}
        {%- endfor %}
    from daily d
    {% if is_incremental() %}left join base b on b.platform = d.platform and b.trader = d.trader{% endif %}
)

{% for kind, _ in windows + [('ALL_TIME', None)] %}
select
    platform,
    trader,
    date,
    '{{ kind }}'::text as kind,
    {%- for measure in measures %}
    {{ kind | lower }}_{{ measure }} as {{ measure }},
    {%- endfor %}
    last_block_number
from windowed
where is_new
{% if not loop.last %}union all{% endif %}
{% endfor %}
