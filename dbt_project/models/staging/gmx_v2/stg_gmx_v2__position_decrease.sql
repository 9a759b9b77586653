with

source as (

    select * from {{ source('gmx_v2', 'gmx_v2__position_decrease') }}

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
        to_timestamp(decreased_at_time::double precision) as decreased_at,

        ---------- position after the decrease
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
        -- collateral token units: collateral before minus collateral after
        collateral_delta_amount,
        {{ gmx_from_e30('base_pnl_usd') }} as base_pnl_usd,
        {{ gmx_from_e30('uncapped_base_pnl_usd') }} as uncapped_base_pnl_usd,
        {{ gmx_from_e30('price_impact_usd') }} as price_impact_usd,
        {{ gmx_from_e30('values_price_impact_diff_usd') }} as price_impact_diff_usd,
        -- the key was renamed across GMX releases; one of the two is set
        {{ gmx_from_e30('coalesce(proportional_pending_impact_usd, proportional_impact_pending_usd)') }}
            as proportional_pending_impact_usd,
        {{ gmx_from_e30('total_impact_usd') }} as total_impact_usd

    from source

)

select * from renamed
