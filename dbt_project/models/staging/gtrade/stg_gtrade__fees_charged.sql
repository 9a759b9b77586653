{#- Every charge the diamond logs before an action's anchor, one row per log, v9 and v10. -#}
{%- set trading_fee_events = [
    ('gov_fee_charged', 'GovFeeCharged', 'GOV'),
    ('trigger_fee_charged', 'TriggerFeeCharged', 'TRIGGER'),
    ('gns_otc_fee_charged', 'GnsOtcFeeCharged', 'GNS_OTC'),
    ('g_token_fee_charged', 'GTokenFeeCharged', 'GTOKEN'),
] -%}

with

{% for version in ['v9', 'v10'] -%}
{%- for table, _event, _type in trading_fee_events %}
{{ version }}_{{ table }} as (

    select * from {{ source('gtrade', 'gtrade_' ~ version ~ '__' ~ table) }}

),

{% endfor -%}
{%- endfor %}
v9_borrowing_fee_charged as (

    select * from {{ source('gtrade', 'gtrade_v9__borrowing_fee_charged') }}

),

v10_fees_processed as (

    select * from {{ source('gtrade', 'gtrade_v10__fees_processed') }}

),

v10_holding_fees_charged_on_trade as (

    select * from {{ source('gtrade', 'gtrade_v10__holding_fees_charged_on_trade') }}

),

unioned as (

{% for version in ['v9', 'v10'] -%}
{%- for table, event, fee_type in trading_fee_events %}
    select
        '{{ version }}' as version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        tx_index,
        log_index,
        '{{ event }}' as event_name,
        '{{ fee_type }}' as fee_type,
        trader,
        collateral_index,
        null::bigint as trade_index,
        amount_collateral::numeric as amount_collateral
    from {{ version }}_{{ table }}

    union all
{% endfor %}
{% endfor %}
    -- v10 only: the total of the trading fee shares above (not a charge of its own)
    select
        'v10' as version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        tx_index,
        log_index,
        'FeesProcessed' as event_name,
        'TRADING_TOTAL' as fee_type,
        trader,
        collateral_index,
        null::bigint as trade_index,
        total_fees_collateral::numeric as amount_collateral
    from v10_fees_processed

    union all

    -- the holding fee: v9 borrowing fee, v10 borrowing + funding fees (signed)
    select
        'v9' as version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        tx_index,
        log_index,
        'BorrowingFeeCharged' as event_name,
        'HOLDING' as fee_type,
        trader,
        collateral_index,
        "index" as trade_index,
        amount_collateral::numeric as amount_collateral
    from v9_borrowing_fee_charged

    union all

    select
        'v10' as version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        tx_index,
        log_index,
        'HoldingFeesChargedOnTrade' as event_name,
        'HOLDING' as fee_type,
        trader,
        collateral_index,
        "index" as trade_index,
        trade_holding_fees_total_fee_collateral::numeric as amount_collateral
    from v10_holding_fees_charged_on_trade

)

select * from unioned
