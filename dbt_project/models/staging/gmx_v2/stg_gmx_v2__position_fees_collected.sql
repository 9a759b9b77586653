with

source as (

    select * from {{ source('gmx_v2', 'gmx_v2__position_fees_collected') }}

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
        is_increase,
        trader,
        market as market_address,
        collateral_token,
        affiliate,
        ui_fee_receiver,
        referral_code,

        ---------- prices (USD per smallest unit of the collateral token)
        {{ gmx_from_e30('collateral_token_price_min') }} as collateral_token_price_min_usd_per_unit,
        {{ gmx_from_e30('collateral_token_price_max') }} as collateral_token_price_max_usd_per_unit,
        {{ gmx_from_e30('trade_size_usd') }} as trade_size_usd,

        ---------- fees (collateral token units unless _usd; factors as fractions)
        position_fee_amount,
        {{ gmx_from_e30('position_fee_factor') }} as position_fee_factor,
        protocol_fee_amount,
        {{ gmx_from_e30('position_fee_receiver_factor') }} as position_fee_receiver_factor,
        fee_receiver_amount,
        fee_amount_for_pool,
        position_fee_amount_for_pool,
        {{ gmx_from_e30('borrowing_fee_usd') }} as borrowing_fee_usd,
        borrowing_fee_amount,
        {{ gmx_from_e30('borrowing_fee_receiver_factor') }} as borrowing_fee_receiver_factor,
        borrowing_fee_amount_for_fee_receiver,
        funding_fee_amount,
        claimable_long_token_amount,
        claimable_short_token_amount,
        latest_funding_fee_amount_per_size,
        latest_long_token_claimable_funding_amount_per_size,
        latest_short_token_claimable_funding_amount_per_size,
        {{ gmx_from_e30('total_rebate_factor') }} as total_rebate_factor,
        {{ gmx_from_e30('trader_discount_factor') }} as trader_discount_factor,
        total_rebate_amount,
        trader_discount_amount,
        affiliate_reward_amount,
        {{ gmx_from_e30('ui_fee_receiver_factor') }} as ui_fee_receiver_factor,
        ui_fee_amount,
        -- everything the action cost the position: position + borrowing + funding fees (net)
        total_cost_amount

    from source

)

select * from renamed
