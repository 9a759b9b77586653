{#- Every venue's actions in the one row contract, unioned (Spellbook style: adding a venue
    = one staging folder + one line here). -#}
{%- set venues = [
    'stg_gmx_v1__position_events',
    'stg_gmx_v2__position_events',
    'stg_gtrade__position_events',
    'stg_synthetix_v2__position_events',
] -%}

{% for venue in venues %}
select
    event_id, chain_id, platform, version, contract_id,
    -- one position lives on one contract family: gTrade's v9 and v10 rows are one diamond
    regexp_replace(contract_id, '^gtrade_v[0-9_]+\.', 'gtrade.') as position_scope,
    block_number, block_time, tx_hash, log_index, action_seq, trader, position_key, market,
    is_long, action, trigger, size_delta_usd, size_after_usd, collateral_delta_usd,
    collateral_after_usd, price, leverage, fee_usd, funding_usd, realized_pnl_before_fees_usd,
    realized_pnl_usd
from {{ ref(venue) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
