with

source as (

    select * from {{ source('gmx_v1', 'gmx_v1__increase_position') }}

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

        ---------- position
        key as position_key,
        account as trader,
        collateral_token,
        index_token,
        is_long,

        ---------- amounts (USD; 30 decimals on chain)
        {{ gmx_from_e30('collateral_delta') }} as collateral_delta_usd,
        {{ gmx_from_e30('size_delta') }} as size_delta_usd,
        {{ gmx_from_e30('price') }} as price,
        {{ gmx_from_e30('fee') }} as fee_usd

    from source

)

select * from renamed
