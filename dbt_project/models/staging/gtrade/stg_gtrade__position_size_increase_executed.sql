with

v9 as (

    select * from {{ source('gtrade', 'gtrade_v9__position_size_increase_executed') }}

),

v10 as (

    select * from {{ source('gtrade', 'gtrade_v10__position_size_increase_executed') }}

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
        values_new_position_size_collateral,
        values_new_collateral_amount,
        values_new_leverage,
        values_price_after_impact as price_after_impact,
        values_existing_pnl_collateral,
        values_new_open_price,
        values_opening_fees_collateral,
        values_borrowing_fee_collateral as holding_fee_collateral
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
        values_new_position_size_collateral,
        values_new_collateral_amount,
        values_new_leverage,
        values_price_impact_price_after_impact as price_after_impact,
        values_existing_pnl_collateral,
        values_new_open_price,
        values_opening_fees_collateral,
        -- v10 reports holding fees in HoldingFeesChargedOnTrade only
        null::numeric as holding_fee_collateral
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
        values_new_position_size_collateral as new_position_size_collateral,
        values_new_collateral_amount as new_collateral_amount,
        values_new_leverage as new_leverage,
        values_existing_pnl_collateral as existing_pnl_collateral,
        values_new_open_price as new_open_price,
        values_opening_fees_collateral as opening_fees_collateral,
        holding_fee_collateral

    from unioned

)

select * from renamed
