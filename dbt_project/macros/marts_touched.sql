{#- What an incremental run of a mart rebuilds: the keys with events in the block window,
    and the keys whose events the event log removed since the mart's last build
    (macros/block_window.sql). Used by the pre-hook (delete) and the model (insert) alike. -#}

{% macro positions_touched() %}
    select chain_id, position_scope, position_key
    from {{ ref('perp_trading_event_log') }}
    where {{ in_block_window() }}
    union
    select chain_id, position_scope, position_key
    from ({{ removed_since_last_build() }}) removed
{% endmacro %}

{% macro pnl_snapshot_touched() %}
    select platform, trader, min(from_date) as from_date
    from (
        select platform, trader, (block_time at time zone 'UTC')::date as from_date
        from {{ ref('perp_trading_event_log') }}
        where {{ in_block_window() }}
        union all
        select platform, trader, (block_time at time zone 'UTC')::date
        from ({{ removed_since_last_build() }}) removed
    ) changes
    group by 1, 2
{% endmacro %}
