with

source as (

    select * from {{ source('gmx_v1', 'gmx_v1__update_funding_rate') }}

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

        ---------- cumulative funding (borrow) rate of a collateral token
        token as collateral_token,
        funding_rate as cumulative_funding_rate

    from source

)

select * from renamed
