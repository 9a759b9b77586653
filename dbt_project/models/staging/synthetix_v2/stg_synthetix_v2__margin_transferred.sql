{#- Every MarginTransferred: margin deposited (> 0) or withdrawn (< 0) by an account. -#}
with

source as (
    select * from {{ source('synthetix_v2', 'synthetix_perps_v2__margin_transferred') }}
),

renamed as (
    select
        chain_id,
        contract_id,
        block_number,
        log_index,
        tx_hash,
        tx_index,
        account,
        margin_delta
    from source
)

select * from renamed
