{#-
    One row per GMX v1 trader action, in the common position-event contract.

    The Vault spreads one action over several logs of one transaction (and a keeper batch
    carries hundreds of actions), in this order:
        increase:  [UpdateFundingRate] CollectMarginFees IncreasePosition UpdatePosition
        decrease:  [UpdateFundingRate] CollectMarginFees UpdatePnl DecreasePosition (UpdatePosition | ClosePosition)
        liquidate: [UpdateFundingRate] CollectMarginFees LiquidatePosition
    The anchor (IncreasePosition / DecreasePosition / LiquidatePosition) gives the row; its
    companions are found by adjacency within the transaction, never by the transaction alone:
      - CollectMarginFees: the log right before the anchor among the transaction's
        CollectMarginFees and anchor logs (i.e. the last one after the previous anchor);
      - UpdatePnl / UpdatePosition / ClosePosition: the log right before / right after the
        anchor among the transaction's logs of the same position key.
    Logs the real Vault interleaves (UpdateFundingRate, reserve / pool / guaranteed-USD
    updates, token transfers) are not in these streams, so they do not break the adjacency.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_block_window() }}",
        post_hook=[
            "{{ record_block_window() }}",
            "create index if not exists {{ this.name }}_chain_block on {{ this }} (chain_id, block_number)",
        ],
    )
}}

with

increases as (

    select * from {{ ref('stg_gmx_v1__increase_position') }}
    where {{ in_block_window() }}

),

decreases as (

    select * from {{ ref('stg_gmx_v1__decrease_position') }}
    where {{ in_block_window() }}

),

liquidations as (

    select * from {{ ref('stg_gmx_v1__liquidate_position') }}
    where {{ in_block_window() }}

),

margin_fees as (

    select * from {{ ref('stg_gmx_v1__collect_margin_fees') }}
    where {{ in_block_window() }}

),

pnl_updates as (

    select * from {{ ref('stg_gmx_v1__update_pnl') }}
    where {{ in_block_window() }}

),

position_updates as (

    -- Arbitrum (7 arguments) and Avalanche (8 arguments, with markPrice) layouts
    select chain_id, contract_id, block_number, tx_hash, log_index, position_key, size_usd, collateral_usd
    from {{ ref('stg_gmx_v1__update_position_7') }}
    where {{ in_block_window() }}

    union all

    select chain_id, contract_id, block_number, tx_hash, log_index, position_key, size_usd, collateral_usd
    from {{ ref('stg_gmx_v1__update_position_8') }}
    where {{ in_block_window() }}

),

closes as (

    select * from {{ ref('stg_gmx_v1__close_position') }}
    where {{ in_block_window() }}

),

tokens as (

    select * from {{ ref('token_addresses') }}

),

blocks as (

    select * from {{ source('raw', 'blocks') }}
    where {{ in_block_window(block_column='number') }}

),

anchors as (

    select
        chain_id, contract_id, block_number, tx_hash, log_index,
        'increase' as anchor_kind,
        position_key, trader, collateral_token, index_token, is_long,
        size_delta_usd,
        collateral_delta_usd,
        price,
        null::numeric as liquidated_collateral_usd
    from increases

    union all

    select
        chain_id, contract_id, block_number, tx_hash, log_index,
        'decrease' as anchor_kind,
        position_key, trader, collateral_token, index_token, is_long,
        size_delta_usd,
        -collateral_delta_usd as collateral_delta_usd,
        price,
        null::numeric as liquidated_collateral_usd
    from decreases

    union all

    select
        chain_id, contract_id, block_number, tx_hash, log_index,
        'liquidate' as anchor_kind,
        position_key, trader, collateral_token, index_token, is_long,
        size_usd as size_delta_usd,
        0 as collateral_delta_usd,
        mark_price as price,
        collateral_usd as liquidated_collateral_usd
    from liquidations

),

-- the transaction's CollectMarginFees and anchor logs, in emission order
fee_stream as (

    select chain_id, contract_id, block_number, tx_hash, log_index, anchor_kind as log_kind
    from anchors

    union all

    select chain_id, contract_id, block_number, tx_hash, log_index, 'margin_fees' as log_kind
    from margin_fees

),

fee_links as (

    select
        chain_id,
        block_number,
        log_index,
        log_kind,
        lag(log_kind) over by_tx as previous_kind,
        lag(log_index) over by_tx as previous_log_index
    from fee_stream
    window by_tx as (
        partition by chain_id, contract_id, block_number, tx_hash
        order by log_index
    )

),

-- the transaction's logs of each position key, in emission order
key_stream as (

    select chain_id, contract_id, block_number, tx_hash, log_index, position_key, anchor_kind as log_kind
    from anchors
    where anchor_kind in ('increase', 'decrease')

    union all

    select chain_id, contract_id, block_number, tx_hash, log_index, position_key, 'pnl' as log_kind
    from pnl_updates

    union all

    select chain_id, contract_id, block_number, tx_hash, log_index, position_key, 'update' as log_kind
    from position_updates

    union all

    select chain_id, contract_id, block_number, tx_hash, log_index, position_key, 'close' as log_kind
    from closes

),

key_links as (

    select
        chain_id,
        block_number,
        log_index,
        log_kind,
        lag(log_kind) over by_key as previous_kind,
        lag(log_index) over by_key as previous_log_index,
        lead(log_kind) over by_key as next_kind,
        lead(log_index) over by_key as next_log_index
    from key_stream
    window by_key as (
        partition by chain_id, contract_id, block_number, tx_hash, position_key
        order by log_index
    )

),

linked as (

    select
        anchors.*,
        case when fee_links.previous_kind = 'margin_fees'
            then fee_links.previous_log_index end as margin_fees_log_index,
        case when key_links.previous_kind = 'pnl'
            then key_links.previous_log_index end as pnl_log_index,
        case when key_links.next_kind in ('update', 'close')
            then key_links.next_kind end as after_kind,
        case when key_links.next_kind in ('update', 'close')
            then key_links.next_log_index end as after_log_index
    from anchors
    left join fee_links
        on fee_links.chain_id = anchors.chain_id
        and fee_links.block_number = anchors.block_number
        and fee_links.log_index = anchors.log_index
        and fee_links.log_kind = anchors.anchor_kind
    left join key_links
        on key_links.chain_id = anchors.chain_id
        and key_links.block_number = anchors.block_number
        and key_links.log_index = anchors.log_index
        and key_links.log_kind = anchors.anchor_kind

),

joined as (

    select
        linked.*,
        margin_fees.fee_usd as margin_fees_usd,
        pnl_updates.realized_pnl_usd as update_pnl_usd,
        position_updates.size_usd as updated_size_usd,
        position_updates.collateral_usd as updated_collateral_usd,
        tokens.symbol as index_symbol,
        blocks.block_time
    from linked
    -- same collateral token: a cheap check that the adjacency found the action's own fees
    left join margin_fees
        on margin_fees.chain_id = linked.chain_id
        and margin_fees.block_number = linked.block_number
        and margin_fees.log_index = linked.margin_fees_log_index
        and margin_fees.collateral_token = linked.collateral_token
    left join pnl_updates
        on linked.anchor_kind = 'decrease'
        and pnl_updates.chain_id = linked.chain_id
        and pnl_updates.block_number = linked.block_number
        and pnl_updates.log_index = linked.pnl_log_index
    left join position_updates
        on linked.after_kind = 'update'
        and position_updates.chain_id = linked.chain_id
        and position_updates.block_number = linked.block_number
        and position_updates.log_index = linked.after_log_index
    left join tokens
        on tokens.chain_id = linked.chain_id
        and tokens.address = linked.index_token
    left join blocks
        on blocks.chain_id = linked.chain_id
        and blocks.number = linked.block_number

),

amounts as (

    select
        *,
        case
            when anchor_kind = 'increase' then
                case
                    when size_delta_usd > 0 and updated_size_usd = size_delta_usd then 'OPEN'
                    when size_delta_usd > 0 then 'INCREASE'
                    else 'COLLATERAL_DEPOSIT'
                end
            when anchor_kind = 'decrease' then
                case
                    when after_kind = 'close' then 'CLOSE'
                    when size_delta_usd > 0 then 'DECREASE'
                    else 'COLLATERAL_WITHDRAW'
                end
            when anchor_kind = 'liquidate' then 'LIQUIDATE'
        end as action,
        -- a close or a liquidation deletes the position; otherwise UpdatePosition holds it
        case when anchor_kind = 'liquidate' or after_kind = 'close' then 0 else updated_size_usd end
            as size_after_usd,
        case when anchor_kind = 'liquidate' or after_kind = 'close' then 0 else updated_collateral_usd end
            as collateral_after_usd,
        -- position fee: the 10 bps margin fee on the size change, floored in 1e30 units as the
        -- Vault does (a liquidation closes the whole size); CollectMarginFees adds the funding fee
        trunc(size_delta_usd * 0.0010, 30) as fee_usd,
        case anchor_kind
            when 'increase' then 0
            when 'decrease' then update_pnl_usd
            -- the trader loses the remaining collateral; realized_pnl_usd = -collateral
            when 'liquidate' then margin_fees_usd - liquidated_collateral_usd
        end as realized_pnl_before_fees_usd
    from joined

),

final as (

    select
        chain_id::integer as chain_id,
        'gmx'::text as platform,
        'v1'::text as version,
        contract_id,
        block_number::bigint as block_number,
        block_time,
        tx_hash,
        log_index::integer as log_index,
        0::integer as action_seq,
        chain_id || '-' || block_number || '-' || log_index || '-' || 0 as event_id,
        trader,
        position_key,
        index_symbol || '/USD' as market,
        is_long,
        action,
        -- GMX v1 logs do not say which order executed
        (case when action = 'LIQUIDATE' then 'LIQUIDATION' end)::text as trigger,
        trim_scale(size_delta_usd) as size_delta_usd,
        trim_scale(size_after_usd) as size_after_usd,
        trim_scale(collateral_delta_usd) as collateral_delta_usd,
        trim_scale(collateral_after_usd) as collateral_after_usd,
        trim_scale(price) as price,
        trim_scale({{ gmx_truncated_ratio('size_after_usd', 'collateral_after_usd') }}) as leverage,
        trim_scale(fee_usd) as fee_usd,
        trim_scale(margin_fees_usd - fee_usd) as funding_usd,
        trim_scale(realized_pnl_before_fees_usd) as realized_pnl_before_fees_usd,
        trim_scale(realized_pnl_before_fees_usd - margin_fees_usd) as realized_pnl_usd
    from amounts

)

select * from final
