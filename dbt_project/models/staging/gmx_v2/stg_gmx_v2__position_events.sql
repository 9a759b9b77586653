{#-
    One row per GMX v2 trader action, in the common position-event contract.

    Every increase / decrease / liquidation emits PositionFeesCollected then PositionIncrease
    or PositionDecrease (the anchor, which gives the row). The fees are attached by adjacency
    within the transaction: the closest PositionFeesCollected before the anchor with the same
    orderKey and the same direction (isIncrease). Amounts follow the reference decoder
    copytrade.devchain.venues.gmx_v2.amounts_from_events, with cp = the fees'
    collateralTokenPrice.min (USD per collateral unit):
      fee_usd          = positionFeeAmount * cp
      funding_usd      = (borrowingFeeAmount + fundingFeeAmount) * cp
      realized before  = floor(basePnlUsd / cp) * cp   (the PnL as settled in collateral units)
      collateral delta = + (collateralDeltaAmount + totalCostAmount) * cp on an increase (the
                         deposit); on a partial decrease - (collateralDeltaAmount
                         - max(0, totalCostAmount - pnl)) * cp (the withdrawal); 0 on a close
                         or a liquidation
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

    select * from {{ ref('stg_gmx_v2__position_increase') }}
    where {{ in_block_window() }}

),

decreases as (

    select * from {{ ref('stg_gmx_v2__position_decrease') }}
    where {{ in_block_window() }}

),

fees as (

    select * from {{ ref('stg_gmx_v2__position_fees_collected') }}
    where {{ in_block_window() }}

),

markets as (

    select * from {{ ref('gmx_v2_markets') }}

),

blocks as (

    select * from {{ source('raw', 'blocks') }}
    where {{ in_block_window(block_column='number') }}

),

anchors as (

    select
        chain_id, contract_id, block_number, tx_hash, log_index,
        true as is_increase,
        order_key, position_key, trader, market_address, is_long, order_type,
        size_in_usd, collateral_amount, execution_price_usd_per_unit,
        size_delta_usd, collateral_delta_amount,
        null::numeric as base_pnl_usd
    from increases

    union all

    select
        chain_id, contract_id, block_number, tx_hash, log_index,
        false as is_increase,
        order_key, position_key, trader, market_address, is_long, order_type,
        size_in_usd, collateral_amount, execution_price_usd_per_unit,
        size_delta_usd, collateral_delta_amount,
        base_pnl_usd
    from decreases

),

fee_candidates as (

    select
        anchors.chain_id,
        anchors.block_number,
        anchors.log_index,
        fees.log_index as fees_log_index,
        row_number() over (
            partition by anchors.chain_id, anchors.block_number, anchors.log_index
            order by fees.log_index desc
        ) as closeness
    from anchors
    inner join fees
        on fees.chain_id = anchors.chain_id
        and fees.contract_id = anchors.contract_id
        and fees.block_number = anchors.block_number
        and fees.tx_hash = anchors.tx_hash
        and fees.order_key = anchors.order_key
        and fees.is_increase = anchors.is_increase
        and fees.log_index < anchors.log_index

),

joined as (

    select
        anchors.*,
        fees.collateral_token_price_min_usd_per_unit as cp,
        fees.position_fee_amount,
        fees.borrowing_fee_amount,
        fees.funding_fee_amount,
        fees.total_cost_amount,
        markets.market_symbol,
        markets.index_decimals,
        blocks.block_time
    from anchors
    left join fee_candidates
        on fee_candidates.chain_id = anchors.chain_id
        and fee_candidates.block_number = anchors.block_number
        and fee_candidates.log_index = anchors.log_index
        and fee_candidates.closeness = 1
    left join fees
        on fees.chain_id = fee_candidates.chain_id
        and fees.block_number = fee_candidates.block_number
        and fees.log_index = fee_candidates.fees_log_index
    left join markets
        on markets.chain_id = anchors.chain_id
        and markets.market = anchors.market_address
    left join blocks
        on blocks.chain_id = anchors.chain_id
        and blocks.number = anchors.block_number

),

settled as (

    select
        *,
        -- realized PnL in collateral units: floor, as GMX settles it (a loss rounds up)
        case when not is_increase then {{ gmx_floor_div('base_pnl_usd', 'cp') }} end as pnl_amount,
        case
            when is_increase then
                case
                    when size_delta_usd > 0 and size_in_usd = size_delta_usd then 'OPEN'
                    when size_delta_usd > 0 then 'INCREASE'
                    else 'COLLATERAL_DEPOSIT'
                end
            when order_type = 7 then 'LIQUIDATE'
            when size_in_usd = 0 then 'CLOSE'
            when size_delta_usd > 0 then 'DECREASE'
            else 'COLLATERAL_WITHDRAW'
        end as action
    from joined

),

amounts as (

    select
        *,
        -- collateral units: + deposit, - withdrawal (a close's collateral leaves as cash out)
        case
            when is_increase then collateral_delta_amount + total_cost_amount
            when action in ('LIQUIDATE', 'CLOSE') then 0
            else -(collateral_delta_amount - greatest(0, total_cost_amount - pnl_amount))
        end as collateral_delta_units
    from settled

),

final as (

    select
        chain_id::integer as chain_id,
        'gmx'::text as platform,
        'v2'::text as version,
        contract_id,
        block_number::bigint as block_number,
        block_time,
        tx_hash,
        log_index::integer as log_index,
        0::integer as action_seq,
        chain_id || '-' || block_number || '-' || log_index || '-' || 0 as event_id,
        trader,
        position_key,
        market_symbol as market,
        is_long,
        action,
        (case order_type
            when 2 then 'MARKET'       -- MarketIncrease
            when 4 then 'MARKET'       -- MarketDecrease
            when 3 then 'LIMIT'        -- LimitIncrease
            when 5 then 'TAKE_PROFIT'  -- LimitDecrease
            when 6 then 'STOP_LOSS'    -- StopLossDecrease
            when 7 then 'LIQUIDATION'  -- Liquidation
        end)::text as trigger,
        trim_scale(size_delta_usd) as size_delta_usd,
        trim_scale(size_in_usd) as size_after_usd,
        trim_scale(collateral_delta_units * cp) as collateral_delta_usd,
        trim_scale(collateral_amount * cp) as collateral_after_usd,
        -- executionPrice is per smallest unit of the index token
        trim_scale(execution_price_usd_per_unit * power(10::numeric, index_decimals)) as price,
        trim_scale({{ gmx_truncated_ratio('size_in_usd', 'collateral_amount * cp') }}) as leverage,
        trim_scale(position_fee_amount * cp) as fee_usd,
        trim_scale((borrowing_fee_amount + funding_fee_amount) * cp) as funding_usd,
        trim_scale(coalesce(pnl_amount, 0) * cp) as realized_pnl_before_fees_usd,
        trim_scale((coalesce(pnl_amount, 0) - position_fee_amount - borrowing_fee_amount - funding_fee_amount) * cp)
            as realized_pnl_usd
    from amounts

)

select * from final
