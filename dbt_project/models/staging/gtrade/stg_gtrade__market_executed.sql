with

v9 as (

    select * from {{ source('gtrade', 'gtrade_v9__market_executed') }}

),

v10 as (

    select * from {{ source('gtrade', 'gtrade_v10__market_executed') }}

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
        user_,
        "index",
        t_pair_index,
        t_long,
        t_leverage,
        t_collateral_index,
        t_collateral_amount,
        t_open_price,
        "open",
        oracle_price,
        market_price,
        market_price as price_after_impact,  -- v9: marketPrice already includes the impact
        liq_price,
        percent_profit,
        amount_sent_to_trader,
        collateral_price_usd
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
        user_,
        "index",
        t_pair_index,
        t_long,
        t_leverage,
        t_collateral_index,
        t_collateral_amount,
        t_open_price,
        "open",
        oracle_price,
        market_price,
        price_impact_price_after_impact as price_after_impact,
        liq_price,
        percent_profit,
        amount_sent_to_trader,
        collateral_price_usd
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
        user_ as trader,
        "index" as trade_index,
        t_pair_index as pair_index,
        t_long as is_long,
        "open" as is_open,
        t_collateral_index as collateral_index,
        t_collateral_amount as trade_collateral_amount,
        t_leverage as trade_leverage,
        t_open_price as trade_open_price,
        oracle_price,
        market_price,
        price_after_impact::numeric as price_after_impact,
        liq_price,
        percent_profit,
        amount_sent_to_trader,
        collateral_price_usd

    from unioned

)

select * from renamed
