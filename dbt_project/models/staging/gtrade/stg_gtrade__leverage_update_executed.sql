with

v9 as (

    select * from {{ source('gtrade', 'gtrade_v9__leverage_update_executed') }}

),

v10 as (

    select * from {{ source('gtrade', 'gtrade_v10__leverage_update_executed') }}

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
        is_increase,
        cancel_reason,
        collateral_index,
        trader,
        pair_index,
        "index",
        oracle_price,
        collateral_delta,
        values_new_leverage,
        values_new_collateral_amount,
        values_liq_price as values_new_liq_price,
        values_gov_fee_collateral
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
        is_increase,
        cancel_reason,
        collateral_index,
        trader,
        pair_index,
        "index",
        oracle_price,
        collateral_delta,
        values_new_leverage,
        values_new_collateral_amount,
        values_new_liq_price,
        values_gov_fee_collateral
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
        -- leverage up = collateral out of the trade, leverage down = collateral in
        is_increase as is_leverage_increase,
        collateral_index,
        oracle_price,
        collateral_delta,
        values_new_leverage as new_leverage,
        values_new_collateral_amount as new_collateral_amount,
        values_new_liq_price as new_liq_price,
        values_gov_fee_collateral as gov_fee_collateral

    from unioned

)

select * from renamed
