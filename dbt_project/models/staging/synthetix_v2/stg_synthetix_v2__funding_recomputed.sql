{#- Every FundingRecomputed, both shapes (funding_rate is null in the 3-argument one):
    the market's cumulative funding per base unit at each funding index. -#}
with

recomputed_3 as (
    select * from {{ source('synthetix_v2', 'synthetix_perps_v2__funding_recomputed_3') }}
),

recomputed_4 as (
    select * from {{ source('synthetix_v2', 'synthetix_perps_v2__funding_recomputed_4') }}
),

unioned as (
    select
        chain_id, contract_id, block_number, log_index, tx_hash, tx_index,
        funding, null::numeric(78, 0) as funding_rate, index, timestamp,
        3 as n_args
    from recomputed_3

    union all

    select
        chain_id, contract_id, block_number, log_index, tx_hash, tx_index,
        funding, funding_rate, index, timestamp,
        4 as n_args
    from recomputed_4
),

renamed as (
    select
        chain_id,
        contract_id,
        block_number,
        log_index,
        tx_hash,
        tx_index,
        index as funding_index,
        funding,
        funding_rate,
        timestamp as funding_timestamp,
        n_args
    from unioned
)

select * from renamed
