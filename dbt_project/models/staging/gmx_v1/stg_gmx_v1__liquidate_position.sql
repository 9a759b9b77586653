with

source as (

    select * from {{ source('gmx_v1', 'gmx_v1__liquidate_position') }}

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

        ---------- position (as it stood before the liquidation)
        key as position_key,
        account as trader,
        collateral_token,
        index_token,
        is_long,

        ---------- amounts (USD; 30 decimals on chain)
        {{ gmx_from_e30('size') }} as size_usd,
        {{ gmx_from_e30('collateral') }} as collateral_usd,
        reserve_amount,
        {{ gmx_from_e30('realised_pnl') }} as realised_pnl_usd,
        {{ gmx_from_e30('mark_price') }} as mark_price

    from source

)

select * from renamed
