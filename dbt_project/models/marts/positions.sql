{#- One row per position lifecycle (open -> close / liquidation), every venue.

    A venue key (GMX's position key, gTrade's trade, Synthetix's id) is reused when a trader
    opens the same position again, so lifecycles are numbered by the OPENs along the key's
    history; a deposit made in the same transaction just before an OPEN belongs to the
    position it funds (Synthetix transfers margin, then trades). Rows before the first OPEN
    in the indexed range belong to a position opened before it: lifecycle 0, flagged
    `opened_before_range`, never guessed.

    Incremental: the keys with events in the block window (macros/block_window.sql), or
    whose events the event log removed since the last build, are deleted and rebuilt from
    their whole history. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}
            delete from {{ this }} p using ({{ positions_touched() }}) t
            where p.chain_id = t.chain_id and p.position_scope = t.position_scope and p.position_key = t.position_key
            {% else %} select 1 {% endif %}",
        post_hook=[
            "{{ record_block_window(ref('perp_trading_event_log')) }}",
            "create index if not exists positions_key on {{ this }} (chain_id, position_scope, position_key)",
            "create index if not exists positions_trader on {{ this }} (trader, closed_at)",
        ],
    )
}}

with

{% if is_incremental() %}
touched as (
    {{ positions_touched() }}
),

events as (
    select e.*
    from {{ ref('perp_trading_event_log') }} e
    join touched t using (chain_id, position_scope, position_key)
),
{% else %}
events as (
    select * from {{ ref('perp_trading_event_log') }}
),
{% endif %}

ordered as (
    select
        *,
        sum(case when action = 'OPEN' then 1 else 0 end) over key_history as opens_so_far,
        lead(action) over key_history as next_action,
        lead(tx_hash) over key_history as next_tx_hash
    from events
    window key_history as (
        partition by chain_id, position_scope, position_key
        order by block_number, log_index, action_seq
    )
),

numbered as (
    select
        *,
        opens_so_far
            + case when action = 'COLLATERAL_DEPOSIT' and next_action = 'OPEN' and next_tx_hash = tx_hash
                   then 1 else 0 end as lifecycle
    from ordered
),

lifecycles as (
    select
        chain_id,
        position_scope,
        position_key,
        lifecycle,
        min(platform) as platform,
        min(trader) as trader,
        min(market) as market,
        bool_and(is_long) as is_long,
        min(block_time) as opened_at,
        max(block_time) filter (where action in ('CLOSE', 'LIQUIDATE')) as closed_at,
        bool_or(action = 'LIQUIDATE') as liquidated,
        bool_or(action in ('CLOSE', 'LIQUIDATE')) as ended,
        (array_agg(price order by block_number, log_index, action_seq))[1] as entry_price,
        (array_agg(price order by block_number, log_index, action_seq)
            filter (where action in ('CLOSE', 'LIQUIDATE')))[1] as exit_price,
        greatest(max(size_after_usd), max(size_delta_usd) filter (where action = 'OPEN')) as max_size_usd,
        max(collateral_after_usd) as max_collateral_usd,
        sum(realized_pnl_usd) as realized_pnl_usd,
        sum(fee_usd) as fees_usd,
        sum(funding_usd) as funding_usd,
        count(*) as actions,
        max(block_number) as last_block_number,
        min(contract_id) filter (where action = 'OPEN') as opened_on_contract_id,
        min(contract_id) as any_contract_id
    from numbered
    group by chain_id, position_scope, position_key, lifecycle
)

select
    md5(chain_id || '|' || position_scope || '|' || position_key || '|' || lifecycle) as position_id,
    chain_id,
    platform,
    coalesce(opened_on_contract_id, any_contract_id) as contract_id,
    position_scope,
    position_key,
    lifecycle,
    trader,
    market,
    case when is_long then 'LONG' else 'SHORT' end as side,
    is_long,
    opened_at,
    closed_at,
    case when liquidated then 'LIQUIDATED' when ended then 'CLOSED' else 'OPEN' end as status,
    entry_price,
    exit_price,
    max_size_usd,
    max_collateral_usd,
    case when max_collateral_usd > 0 then max_size_usd / max_collateral_usd end as leverage,
    realized_pnl_usd,
    fees_usd,
    funding_usd,
    actions,
    closed_at - opened_at as duration,
    lifecycle = 0 as opened_before_range,
    last_block_number
from lifecycles
