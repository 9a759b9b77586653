with

source as (

    select * from {{ source('gmx_v2', 'gmx_v2__position_increase') }}

),

renamed as (

    select
        ---------- log
        chain_id,
        contract_id,
        block_number,
        log_index,
        tx_hash,
        tx_index,
        msg_sender,

        ---------- order and position
        order_key,
        position_key,
        account as trader,
        market as market_address,
        collateral_token,
        is_long,
        order_type::integer as order_type,
        to_timestamp(increased_at_time::double precision) as increased_at,

        ---------- position after the increase
        {{ gmx_from_e30('size_in_usd') }} as size_in_usd,
        size_in_tokens,
        collateral_amount,
        borrowing_factor,
        funding_fee_amount_per_size,
        long_token_claimable_funding_amount_per_size,
        short_token_claimable_funding_amount_per_size,

        ---------- prices (USD per smallest unit of the token)
        {{ gmx_from_e30('execution_price') }} as execution_price_usd_per_unit,
        {{ gmx_from_e30('index_token_price_min') }} as index_token_price_min_usd_per_unit,
        {{ gmx_from_e30('index_token_price_max') }} as index_token_price_max_usd_per_unit,
        {{ gmx_from_e30('collateral_token_price_min') }} as collateral_token_price_min_usd_per_unit,
        {{ gmx_from_e30('collateral_token_price_max') }} as collateral_token_price_max_usd_per_unit,

        ---------- the order
        {{ gmx_from_e30('size_delta_usd') }} as size_delta_usd,
        size_delta_in_tokens,
        base_size_delta_in_tokens,
        -- collateral token units, signed: the deposit minus the fees the increase settled
        collateral_delta_amount,
        {{ gmx_from_e30('price_impact_usd') }} as price_impact_usd,
        price_impact_amount,
        {{ gmx_from_e30('pending_price_impact_usd') }} as pending_price_impact_usd,
        pending_price_impact_amount

    from source

)

select * from renamed
