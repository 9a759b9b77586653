{#- The normalized trade history: one row per trader action, every venue (DESIGN.md §4).

    Incremental by block window: each run deletes the rows of the last
    `reorg_lookback_blocks` blocks below each chain's newest modelled block and inserts what
    the sources hold from there on, so re-ingested (reorged) partitions within the window
    replace their rows and nothing is inserted twice. -#}
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{% if is_incremental() %}
             delete from {{ this }} t using (
                 select chain_id, max(block_number) - {{ var('reorg_lookback_blocks') }} as from_block
                 from {{ this }} group by chain_id
             ) w
             where t.chain_id = w.chain_id and t.block_number >= w.from_block
             {% endif %}"
        ],
        post_hook=[
            "create index if not exists perp_trading_event_log_trader on {{ this }} (trader, block_time)",
            "create index if not exists perp_trading_event_log_position on {{ this }} (position_scope, position_key)",
            "create unique index if not exists perp_trading_event_log_event_id on {{ this }} (event_id)",
        ],
    )
}}

with

events as (
    select * from {{ ref('int_position_events_unioned') }}
)

{% if is_incremental() %}
, watermarks as (
    select chain_id, max(block_number) as modelled_to from {{ this }} group by chain_id
)
{% endif %}

select events.*
from events
{% if is_incremental() %}
left join watermarks using (chain_id)
-- the pre-hook removed the last window: everything after what is left goes in again
where events.block_number > coalesce(watermarks.modelled_to, -1)
{% endif %}
