{#- Every PositionLiquidated, both shapes in one relation: `fee` before Caph,
    flagger/liquidator/stakers fees after (the other columns are null). -#}
with

liquidated_6 as (
    select * from {{ source('synthetix_v2', 'synthetix_perps_v2__position_liquidated_6') }}
),

liquidated_8 as (
    select * from {{ source('synthetix_v2', 'synthetix_perps_v2__position_liquidated_8') }}
),

unioned as (
    select
        chain_id, contract_id, block_number, log_index, tx_hash, tx_index,
        id, account, liquidator, size, price,
        fee,
        null::numeric(78, 0) as flagger_fee,
        null::numeric(78, 0) as liquidator_fee,
        null::numeric(78, 0) as stakers_fee,
        6 as n_args
    from liquidated_6

    union all

    select
        chain_id, contract_id, block_number, log_index, tx_hash, tx_index,
        id, account, liquidator, size, price,
        null::numeric(78, 0) as fee,
        flagger_fee,
        liquidator_fee,
        stakers_fee,
        8 as n_args
    from liquidated_8
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
        liquidator,
        size,
        price,
        fee,
        flagger_fee,
        liquidator_fee,
        stakers_fee,
        n_args
    from unioned
)

select * from renamed
