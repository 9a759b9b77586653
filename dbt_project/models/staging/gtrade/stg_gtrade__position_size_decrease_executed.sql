with

v9 as (

    select * from {{ source('gtrade', 'gtrade_v9__position_size_decrease_executed') }}

),

v10 as (

    select * from {{ source('gtrade', 'gtrade_v10__position_size_decrease_executed') }}

),

unioned as (

    select
        'v9' as version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        tx_index,
        log_index,
        order_id_index,
        cancel_reason,
        collateral_index,
        trader,
        pair_index,
        "index",
        long,
        oracle_price,
        collateral_price_usd,
        collateral_delta,
        leverage_delta,
        values_position_size_collateral_delta,
        values_existing_position_size_collateral,
        values_price_after_impact as price_after_impact,
        values_existing_pnl_collateral,
        -- v9 has no partialRawPnlCollateral: collateralSentToTrader = availableCollateralInDiamond
        -- + partial pnl - borrowing fee, so the partial pnl is sent - available + borrowing fee
        values_collateral_sent_to_trader
            - values_available_collateral_in_diamond
            + values_borrowing_fee_collateral as partial_raw_pnl_collateral,
        values_borrowing_fee_collateral as holding_fee_collateral,
        values_closing_fee_collateral,
        values_available_collateral_in_diamond,
        values_collateral_sent_to_trader,
        values_new_collateral_amount,
        values_new_leverage
    from v9

    union all

    select
        'v10' as version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        tx_index,
        log_index,
        order_id_index,
        cancel_reason,
        collateral_index,
        trader,
        pair_index,
        "index",
        long,
        oracle_price,
        collateral_price_usd,
        collateral_delta,
        leverage_delta,
        values_position_size_collateral_delta,
        values_existing_position_size_collateral,
        values_price_impact_price_after_impact as price_after_impact,
        -- v10 reports the pnl percent (existingPnlPercent), not the pnl in collateral
        null::numeric as values_existing_pnl_collateral,
        values_partial_raw_pnl_collateral as partial_raw_pnl_collateral,
        -- v10 reports holding fees in HoldingFeesChargedOnTrade only
        null::numeric as holding_fee_collateral,
        values_closing_fee_collateral,
        values_available_collateral_in_diamond,
        values_collateral_sent_to_trader,
        values_new_collateral_amount,
        values_new_leverage
    from v10

),

renamed as (

    select
        version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        tx_index,
        log_index,
        order_id_index as order_index,
        cancel_reason,
        cancel_reason = 0 as is_executed,
        trader,
        "index"::bigint as trade_index,
        pair_index::integer as pair_index,
        long as is_long,
        collateral_index,
        oracle_price,
        price_after_impact::numeric as price_after_impact,
        collateral_price_usd,
        collateral_delta,
        leverage_delta,
        values_position_size_collateral_delta as position_size_collateral_delta,
        values_existing_position_size_collateral as existing_position_size_collateral,
        values_existing_pnl_collateral as existing_pnl_collateral,
        partial_raw_pnl_collateral,
        holding_fee_collateral,
        values_closing_fee_collateral as closing_fee_collateral,
        values_available_collateral_in_diamond as available_collateral_in_diamond,
        values_collateral_sent_to_trader as collateral_sent_to_trader,
        values_new_collateral_amount as new_collateral_amount,
        values_new_leverage as new_leverage

    from unioned

)

select * from renamed
