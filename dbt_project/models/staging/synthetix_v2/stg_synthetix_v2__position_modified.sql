{#- Every PositionModified, both shapes in one relation (skew is null before Caph). -#}
with

modified_8 as (
    select * from {{ source('synthetix_v2', 'synthetix_perps_v2__position_modified_8') }}
),

modified_9 as (
    select * from {{ source('synthetix_v2', 'synthetix_perps_v2__position_modified_9') }}
),

unioned as (
    select
        chain_id, contract_id, block_number, log_index, tx_hash, tx_index,
        id, account, margin, size, trade_size, last_price, funding_index, fee,
        null::numeric(78, 0) as skew,
        8 as n_args
    from modified_8

    union all

    select
        chain_id, contract_id, block_number, log_index, tx_hash, tx_index,
        id, account, margin, size, trade_size, last_price, funding_index, fee,
        skew,
        9 as n_args
    from modified_9
),

renamed as (
    select
        chain_id,
        contract_id,
        block_number,
        log_index,
        tx_hash,
        tx_index,
        id as position_id,
        account,
        margin,
        size,
        trade_size,
        last_price,
        funding_index,
        fee,
        skew,
        n_args
    from unioned
)

select * from renamed
