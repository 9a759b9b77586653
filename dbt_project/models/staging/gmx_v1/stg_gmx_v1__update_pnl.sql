with

source as (

    select * from {{ source('gmx_v1', 'gmx_v1__update_pnl') }}

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

        ---------- realized pnl of one decrease (before fees)
        key as position_key,
        has_profit,
        {{ gmx_from_e30('delta') }} as delta_usd,
        case when has_profit then 1 else -1 end * {{ gmx_from_e30('delta') }} as realized_pnl_usd

    from source

)

select * from renamed
