with

source as (

    select * from {{ source('gmx_v1', 'gmx_v1__collect_margin_fees') }}

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

        ---------- fees (position fee + funding fee of one position update)
        token as collateral_token,
        {{ gmx_from_e30('fee_usd') }} as fee_usd,
        fee_tokens

    from source

)

select * from renamed
