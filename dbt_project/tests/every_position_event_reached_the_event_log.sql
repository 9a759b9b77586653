{#- Every decoded position event (the anchor log of a trader action on any venue) has a row
    in the normalized event log: nothing decoded is lost on the way to the marts. -#}
with

anchors as (
    select chain_id, block_number, log_index, 'gmx_v1 increase' as kind from {{ source('gmx_v1', 'gmx_v1__increase_position') }}
    union all select chain_id, block_number, log_index, 'gmx_v1 decrease' from {{ source('gmx_v1', 'gmx_v1__decrease_position') }}
    union all select chain_id, block_number, log_index, 'gmx_v1 liquidate' from {{ source('gmx_v1', 'gmx_v1__liquidate_position') }}
    union all select chain_id, block_number, log_index, 'gmx_v2 increase' from {{ source('gmx_v2', 'gmx_v2__position_increase') }}
    union all select chain_id, block_number, log_index, 'gmx_v2 decrease' from {{ source('gmx_v2', 'gmx_v2__position_decrease') }}
    union all select chain_id, block_number, log_index, 'gtrade v9 market' from {{ source('gtrade', 'gtrade_v9__market_executed') }}
    union all select chain_id, block_number, log_index, 'gtrade v10 market' from {{ source('gtrade', 'gtrade_v10__market_executed') }}
    union all select chain_id, block_number, log_index, 'gtrade v9 limit' from {{ source('gtrade', 'gtrade_v9__limit_executed') }}
    union all select chain_id, block_number, log_index, 'gtrade v10 limit' from {{ source('gtrade', 'gtrade_v10__limit_executed') }}
    union all select chain_id, block_number, log_index, 'synthetix liquidated' from {{ source('synthetix_v2', 'synthetix_perps_v2__position_liquidated_6') }}
    union all select chain_id, block_number, log_index, 'synthetix liquidated' from {{ source('synthetix_v2', 'synthetix_perps_v2__position_liquidated_8') }}
)

select a.*
from anchors a
left join {{ ref('perp_trading_event_log') }} e
    on e.chain_id = a.chain_id and e.block_number = a.block_number and e.log_index = a.log_index
where e.event_id is null
