{#- One row per gTrade trader action, v9 and v10 alike, in the common position-event contract.

    An action is an anchor log (the last log the diamond emits for it) and the charges logged
    just before it in the same transaction, after the previous anchor:
      [GovFeeCharged [TriggerFeeCharged] GnsOtcFeeCharged GTokenFeeCharged [FeesProcessed (v10)]]
      [BorrowingFeeCharged (v9) | HoldingFeesChargedOnTrade (v10)]
      MarketExecuted | LimitExecuted | PositionSizeIncreaseExecuted
        | PositionSizeDecreaseExecuted | LeverageUpdateExecuted            <- the anchor
    (a lone GovFeeCharged is the fee of a leverage update). Amounts are worked out in the
    diamond's integer units and converted to USD at the end.

    A table, like Synthetix's: the per-trade windows need each trade's whole history, so no
    consumer filter pushes down into them; built once per run, it serves this model's data
    tests and the incremental event log without recomputing the joins for each of them. -#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['chain_id', 'block_number']}],
    )
}}

with

market_executed as (

    select * from {{ ref('stg_gtrade__market_executed') }}

),

limit_executed as (

    select * from {{ ref('stg_gtrade__limit_executed') }}

),

size_increases as (

    select * from {{ ref('stg_gtrade__position_size_increase_executed') }}

),

size_decreases as (

    select * from {{ ref('stg_gtrade__position_size_decrease_executed') }}

),

leverage_updates as (

    select * from {{ ref('stg_gtrade__leverage_update_executed') }}

),

fees_charged as (

    select * from {{ ref('stg_gtrade__fees_charged') }}

),

blocks as (

    select * from {{ source('raw', 'blocks') }}

),

pairs as (

    select * from {{ ref('gtrade_pairs') }}

),

-- Trades opened or closed whole. `t` is the trade after the open (fees already taken) or
-- before the close.
trade_executions as (

    select
        version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        log_index,
        trader,
        trade_index,
        pair_index,
        is_long,
        is_open,
        case when is_open then 'OPEN' else 'CLOSE' end as action,
        'MARKET' as trigger,
        trade_collateral_amount,
        {{ gtrade_position_size('trade_collateral_amount', 'trade_leverage') }} as trade_size,
        amount_sent_to_trader,
        oracle_price
    from market_executed

    union all

    select
        version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        log_index,
        trader,
        trade_index,
        pair_index,
        is_long,
        is_open,
        case
            when order_type = 6 then 'LIQUIDATE'
            when is_open then 'OPEN'
            else 'CLOSE'
        end as action,
        case order_type
            when 2 then 'LIMIT'
            when 3 then 'LIMIT'
            when 4 then 'TAKE_PROFIT'
            when 5 then 'STOP_LOSS'
            when 6 then 'LIQUIDATION'
        end as trigger,
        trade_collateral_amount,
        {{ gtrade_position_size('trade_collateral_amount', 'trade_leverage') }} as trade_size,
        amount_sent_to_trader,
        oracle_price
    from limit_executed

),

-- Every anchor, in the diamond's units. Cancelled size/leverage orders (cancelReason <> NONE)
-- are kept here as boundaries between actions and dropped at the end.
anchors as (

    select
        version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        log_index,
        trader,
        trade_index,
        pair_index,
        is_long,
        true as is_executed,
        action,
        trigger,
        oracle_price,
        trade_size as size_delta,
        case when is_open then trade_size else 0 end as size_after,
        -- an open adds its fee to get the gross deposit (below)
        case when is_open then trade_collateral_amount else 0 end as collateral_delta_before_fee,
        case when is_open then trade_collateral_amount else 0 end as collateral_after,
        case when is_open then null else trade_collateral_amount end as closed_collateral,
        amount_sent_to_trader,
        null::numeric as partial_pnl
    from trade_executions

    union all

    select
        version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        log_index,
        trader,
        trade_index,
        pair_index,
        is_long,
        is_executed,
        'INCREASE' as action,
        'MARKET' as trigger,
        oracle_price,
        position_size_collateral_delta as size_delta,
        {{ gtrade_position_size('new_collateral_amount', 'new_leverage') }} as size_after,
        collateral_delta as collateral_delta_before_fee,
        new_collateral_amount as collateral_after,
        null::numeric as closed_collateral,
        null::numeric as amount_sent_to_trader,
        null::numeric as partial_pnl
    from size_increases

    union all

    select
        version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        log_index,
        trader,
        trade_index,
        pair_index,
        is_long,
        is_executed,
        'DECREASE' as action,
        'MARKET' as trigger,
        oracle_price,
        position_size_collateral_delta as size_delta,
        {{ gtrade_position_size('new_collateral_amount', 'new_leverage') }} as size_after,
        -collateral_delta as collateral_delta_before_fee,
        new_collateral_amount as collateral_after,
        null::numeric as closed_collateral,
        null::numeric as amount_sent_to_trader,
        partial_raw_pnl_collateral as partial_pnl
    from size_decreases

    union all

    select
        version,
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        log_index,
        trader,
        trade_index,
        pair_index,
        -- LeverageUpdateExecuted does not say; taken from the trade's other actions below
        null::boolean as is_long,
        is_executed,
        case
            when is_leverage_increase then 'COLLATERAL_WITHDRAW'
            else 'COLLATERAL_DEPOSIT'
        end as action,
        'MARKET' as trigger,
        oracle_price,
        0 as size_delta,
        {{ gtrade_position_size('new_collateral_amount', 'new_leverage') }} as size_after,
        case when is_leverage_increase then -collateral_delta else collateral_delta end
            as collateral_delta_before_fee,
        new_collateral_amount as collateral_after,
        null::numeric as closed_collateral,
        null::numeric as amount_sent_to_trader,
        null::numeric as partial_pnl
    from leverage_updates

),

-- The trader's logs of each transaction in order: anchors and the charges before them.
action_logs as (

    select
        chain_id,
        block_number,
        tx_hash,
        trader,
        log_index,
        true as is_anchor,
        null::text as fee_type,
        null::numeric as amount_collateral
    from anchors

    union all

    select
        chain_id,
        block_number,
        tx_hash,
        trader,
        log_index,
        false as is_anchor,
        fee_type,
        amount_collateral
    from fees_charged

),

-- A charge belongs to the first anchor at or after it: the logs after the previous anchor up
-- to this one.
charges_with_anchor as (

    select
        *,
        min(case when is_anchor then log_index end) over (
            partition by chain_id, block_number, tx_hash, trader
            order by log_index
            rows between current row and unbounded following
        ) as anchor_log_index
    from action_logs

),

action_charges as (

    select
        chain_id,
        block_number,
        tx_hash,
        trader,
        anchor_log_index as log_index,
        sum(amount_collateral) filter (
            where fee_type in ('GOV', 'TRIGGER', 'GNS_OTC', 'GTOKEN')
        ) as trading_fee,
        sum(amount_collateral) filter (where fee_type = 'HOLDING') as holding_fee
    from charges_with_anchor
    where not is_anchor
        and anchor_log_index is not null
    group by 1, 2, 3, 4, 5

),

-- The action's amounts, still in collateral units.
actions as (

    select
        anchors.*,
        {{ gtrade_position_key('anchors.trader', 'anchors.trade_index') }} as position_key,
        coalesce(action_charges.trading_fee, 0) as fee,
        coalesce(action_charges.holding_fee, 0) as funding
    from anchors
    left join action_charges
        on anchors.chain_id = action_charges.chain_id
        and anchors.block_number = action_charges.block_number
        and anchors.tx_hash = action_charges.tx_hash
        and anchors.trader = action_charges.trader
        and anchors.log_index = action_charges.log_index
    where anchors.is_executed

),

amounts as (

    select
        *,
        collateral_delta_before_fee
            + case when action = 'OPEN' then fee else 0 end as collateral_delta,
        case
            when action in ('CLOSE', 'LIQUIDATE')
                then amount_sent_to_trader + fee + funding - closed_collateral
            when action = 'DECREASE' then partial_pnl
            else 0
        end as realized_pnl_before_fees,
        -- a trade is long or short for life: leverage updates borrow it from the trade's other actions
        coalesce(
            is_long,
            bool_or(is_long) over (partition by chain_id, position_key)
        ) as trade_is_long
    from actions

),

final as (

    select
        amounts.chain_id::integer as chain_id,
        'gtrade'::text as platform,
        amounts.version::text as version,
        amounts.contract_id::text as contract_id,
        amounts.block_number::bigint as block_number,
        blocks.block_time::timestamptz as block_time,
        amounts.tx_hash::text as tx_hash,
        amounts.log_index::integer as log_index,
        0::integer as action_seq,
        (amounts.chain_id || '-' || amounts.block_number || '-' || amounts.log_index || '-' || 0)::text
            as event_id,
        amounts.trader::text as trader,
        amounts.position_key::text as position_key,
        pairs.market_symbol::text as market,
        amounts.trade_is_long::boolean as is_long,
        amounts.action::text as action,
        amounts.trigger::text as trigger,
        -- exact amounts; trim_scale drops the trailing zeros of the fixed-scale products
        trim_scale({{ gtrade_collateral_to_usd('amounts.size_delta') }}) as size_delta_usd,
        trim_scale({{ gtrade_collateral_to_usd('amounts.size_after') }}) as size_after_usd,
        trim_scale({{ gtrade_collateral_to_usd('amounts.collateral_delta') }}) as collateral_delta_usd,
        trim_scale({{ gtrade_collateral_to_usd('amounts.collateral_after') }}) as collateral_after_usd,
        trim_scale({{ gtrade_price_to_usd('amounts.oracle_price') }}) as price,
        -- size / collateral truncated to 18 decimals (both in collateral units)
        trim_scale(
            case
                when amounts.size_after > 0 and amounts.collateral_after > 0
                    then div(amounts.size_after * 1000000000000000000, amounts.collateral_after)
                        * 0.000000000000000001
                else 0
            end
        ) as leverage,
        trim_scale({{ gtrade_collateral_to_usd('amounts.fee') }}) as fee_usd,
        trim_scale({{ gtrade_collateral_to_usd('amounts.funding') }}) as funding_usd,
        trim_scale({{ gtrade_collateral_to_usd('amounts.realized_pnl_before_fees') }})
            as realized_pnl_before_fees_usd,
        trim_scale({{ gtrade_collateral_to_usd(
            'amounts.realized_pnl_before_fees - amounts.fee - amounts.funding'
        ) }}) as realized_pnl_usd
    from amounts
    left join blocks
        on amounts.chain_id = blocks.chain_id
        and amounts.block_number = blocks.number
    left join pairs
        on amounts.pair_index = pairs.pair_index

)

select * from final
