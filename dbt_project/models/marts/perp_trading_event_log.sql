{#- The normalized trade history: one row per trader action, every venue (DESIGN.md §4).

    Incremental by block window (macros/block_window.sql): each run replaces the trailing
    `reorg_lookback_blocks` of every chain and every range ingested since the last build, so a
    backfilled or re-ingested (reorged) partition replaces its rows and nothing is doubled. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_event_log_window() }}",
        post_hook=[
            "{{ record_block_window() }}",
            "create index if not exists perp_trading_event_log_chain_block on {{ this }} (chain_id, block_number)",
            "create index if not exists perp_trading_event_log_trader on {{ this }} (trader, block_time)",
            "create index if not exists perp_trading_event_log_position on {{ this }} (chain_id, position_scope, position_key)",
            "create unique index if not exists perp_trading_event_log_event_id on {{ this }} (event_id)",
        ],
    )
}}

with

events as (
    select * from {{ ref('int_position_events_unioned') }}
)

select *
from events
where {{ in_block_window() }}
