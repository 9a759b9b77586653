with

source as (

    select * from {{ source('gmx_v1', 'gmx_v1__update_position_7') }}

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

        ---------- position after the update
        key as position_key,
        {{ gmx_from_e30('size') }} as size_usd,
        {{ gmx_from_e30('collateral') }} as collateral_usd,
        {{ gmx_from_e30('average_price') }} as average_price,
        entry_funding_rate,
        reserve_amount,
        {{ gmx_from_e30('realised_pnl') }} as realised_pnl_usd

    from source

)

select * from renamed
