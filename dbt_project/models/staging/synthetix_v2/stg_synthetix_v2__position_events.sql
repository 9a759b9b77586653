{#-
    Synthetix Perps v2: one row per trader action, in the common position-event contract.

    Synthetix nets one position per account and market (each market is its own proxy, so
    contract_id is the market). Every modification emits a PositionModified (PM) with the
    state *after* it (margin, size, lastPrice, fundingIndex) and re-marks the position: the
    margin absorbs the price PnL and the funding accrued since the previous PM, minus the fee.
    So an action's amounts come from its PM and the previous PM of the same account and
    market (lag), in the market's integer 1e18 units, with Synthetix's multiplyDecimal
    (x * y / 1e18 truncated toward zero: div()):
        pnl     = trunc(size_before * (lastPrice - lastPrice_before) / 1e18)
        accrued = trunc(size_before * (F[fundingIndex] - F[fundingIndex_before]) / 1e18)
        margin  = margin_before + transfer + pnl + accrued - fee       (every non-liquidation PM)
    F[i] is the `funding` of the market's FundingRecomputed with index i; transfer is the
    account's MarginTransferred right before the PM (log_index - 1); the account's
    PositionLiquidated right after it (log_index + 1) makes the PM (all zeros) a liquidation,
    anchored on the PositionLiquidated. A PM that takes the size across zero is two actions
    sharing its anchor: CLOSE (action_seq 0) then OPEN (action_seq 1).

    Only window functions, no join between event tables (their row counts are unknown to the
    planner behind the shape unions, and a misestimated merge join on neighbouring log indices
    turns quadratic per market): two sorted passes, per market then per account and market.
    Amounts stay integers until the end, then are scaled exactly (multiplied by 1e-18 /
    1e-36, never divided) and printed without trailing zeros (trim_scale).

    A table, unlike the light staging views: the per-account windows need every account's
    whole history, so no consumer filter can push down into them; built once per run, it
    serves this model's data tests and the incremental event log without recomputing
    (~20 s per million PositionModified).
-#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['chain_id', 'block_number']}],
    )
}}

with

position_modified as (
    select * from {{ ref('stg_synthetix_v2__position_modified') }}
),

position_liquidated as (
    select * from {{ ref('stg_synthetix_v2__position_liquidated') }}
),

funding_recomputed as (
    select * from {{ ref('stg_synthetix_v2__funding_recomputed') }}
),

margin_transferred as (
    select * from {{ ref('stg_synthetix_v2__margin_transferred') }}
),

blocks as (
    select * from {{ source('raw', 'blocks') }}
),

markets as (
    select * from {{ ref('synthetix_markets') }}
),

-- the logs an action is read from, one stream per market in emission order; what a
-- PositionModified needs from its neighbours is packed in one array per event:
--   transfer_log    (MarginTransferred):  [block_number, log_index, margin_delta]
--   liquidation_log (PositionLiquidated): [block_number, log_index, size, price, n_args,
--                                          fee (old shape), flagger + liquidator + stakers fee (Caph)]
--   funding_log     (FundingRecomputed):  [funding_index, funding]
market_logs as (
    select
        chain_id, contract_id, block_number, log_index, tx_hash, account,
        true as is_position_modified,
        position_id, margin, size, trade_size, last_price, funding_index, fee,
        null::numeric[] as transfer_log,
        null::numeric[] as liquidation_log,
        null::numeric[] as funding_log
    from position_modified

    union all

    select
        chain_id, contract_id, block_number, log_index, tx_hash, account,
        false,
        null, null, null, null, null, null, null,
        array[block_number, log_index, margin_delta]::numeric[],
        null,
        null
    from margin_transferred

    union all

    select
        chain_id, contract_id, block_number, log_index, tx_hash, account,
        false,
        null, null, null, null, null, null, null,
        null,
        array[
            block_number, log_index, size, price, n_args, fee,
            flagger_fee + liquidator_fee + stakers_fee
        ]::numeric[],
        null
    from position_liquidated

    union all

    select
        chain_id, contract_id, block_number, log_index, tx_hash, null,
        false,
        null, null, null, null, null, null, null,
        null,
        null,
        array[funding_index, funding]::numeric[]
    from funding_recomputed
),

-- each log with its neighbours in the market's stream, and the market's latest
-- FundingRecomputed (running max: funding indices grow with the stream). Every call that
-- emits a PM recomputes funding first, so that is the PM's fundingIndex (checked below).
market_stream as (
    select
        market_logs.*,
        lag(transfer_log) over in_market as previous_transfer_log,
        lag(account) over in_market as previous_account,
        lead(liquidation_log) over in_market as next_liquidation_log,
        lead(account) over in_market as next_account,
        max(funding_log) over (in_market rows between unbounded preceding and current row) as latest_funding_log
    from market_logs
    window in_market as (
        partition by chain_id, contract_id
        order by block_number, log_index
    )
),

modifications as (
    select
        chain_id,
        contract_id,
        block_number,
        log_index,
        tx_hash,
        account,
        position_id,
        margin,
        size,
        trade_size,
        last_price,
        fee,
        -- F[fundingIndex]; null (and the model's not_null tests fail) if the history lacks it
        case when latest_funding_log[1] = funding_index then latest_funding_log[2] end as funding,
        case
            when previous_account = account
                and previous_transfer_log[1] = block_number
                and previous_transfer_log[2] = log_index - 1
                then previous_transfer_log[3]
            else 0
        end as transfer,
        coalesce(
            next_account = account
                and next_liquidation_log[1] = block_number
                and next_liquidation_log[2] = log_index + 1,
            false
        ) as is_liquidation,
        next_liquidation_log as liquidation_log
    from market_stream
    where is_position_modified
),

-- The account's state in the market before each PM: the previous PM's (zeros if none); the
-- funding at the previous PM's fundingIndex is the previous PM's own `funding`, however old.
-- The nearest PMs with a position on either side (running max / min of an array that sorts
-- by block and log and carries the position id and side: [block, log, id, is_long]) say
-- which position a transfer while no position is open belongs to.
account_history as (
    select
        modifications.*,
        coalesce(lag(margin) over in_account, 0) as margin_before,
        coalesce(lag(size) over in_account, 0) as size_before,
        coalesce(lag(last_price) over in_account, 0) as last_price_before,
        lag(funding) over in_account as funding_before,
        -- the last PM that held a position or liquidated one, up to here
        max(
            case
                when size <> 0 then array[block_number, log_index, position_id, (size > 0)::integer]
                when is_liquidation then
                    array[block_number, log_index, position_id, (liquidation_log[3] > 0)::integer]
            end::numeric[]
        ) over (in_account rows between unbounded preceding and current row) as previous_position,
        -- the first PM that holds a position, from here on
        min(
            case
                when size <> 0 then array[block_number, log_index, position_id, (size > 0)::integer]
            end::numeric[]
        ) over (
            partition by chain_id, contract_id, account
            order by block_number desc, log_index desc
            rows between unbounded preceding and current row
        ) as next_position
    from modifications
    window in_account as (
        partition by chain_id, contract_id, account
        order by block_number, log_index
    )
),

classified as (
    select
        account_history.*,
        -- a margin transfer while no position is open (Synthetix emits position id 0)
        size_before = 0 and size = 0 and not is_liquidation as is_idle,
        -- one trade across zero: the old position closes, the other side opens
        not is_liquidation and transfer = 0
            and size_before <> 0 and size <> 0 and sign(size_before) <> sign(size) as is_flip,
        -- price PnL and accrued funding since the previous PM (none without a position)
        case
            when size_before = 0 then 0
            else div(size_before * (last_price - last_price_before), 1e18)
        end as pnl,
        case
            when size_before = 0 then 0
            else div(size_before * (funding - funding_before), 1e18)
        end as accrued
    from account_history
),

attributed as (
    select
        classified.*,
        -- An idle PM belongs to the previous position while that position's margin is still
        -- in the market (the withdrawal after a close), else to the next one (the deposit
        -- before an open); 'none' when there is no position on either side yet.
        case
            when not is_idle then 'self'
            when margin_before > 0 and previous_position is not null then 'previous'
            when next_position is not null then 'next'
            when previous_position is not null then 'previous'
            else 'none'
        end as attribution,
        -- the total liquidation fee: the Caph shape splits it; the old shape's `fee` is the
        -- total on the dev chain but only the keeper's fee on real markets, which sent the
        -- rest of the remaining margin to the fee pool: max(fee, remaining margin) is the
        -- total on both
        case
            when not is_liquidation then null
            when liquidation_log[5] = 8 then liquidation_log[7]
            when liquidation_log[5] = 6 then greatest(liquidation_log[6], margin_before + pnl + accrued)
        end as liquidation_fee
    from classified
),

-- one row per action: every PM that moved margin or size (action_seq 0), plus the OPEN half
-- of each flip (action_seq 1)
actions as (
    select
        attributed.*,
        halves.action_seq
    from attributed
    inner join (values (0), (1)) as halves (action_seq)
        on halves.action_seq = 0 or attributed.is_flip
    where not (attributed.is_idle and attributed.transfer = 0)
),

-- amounts in the market's units: sizes x prices in 1e36, the rest in 1e18
amounts as (
    select
        chain_id,
        contract_id,
        block_number,
        tx_hash,
        case when is_liquidation then liquidation_log[2] else log_index end as log_index,
        action_seq,
        account as trader,
        case attribution
            when 'previous' then previous_position[3]
            when 'next' then next_position[3]
            else position_id
        end as position_id,
        case
            when action_seq = 1 then size > 0
            when attribution = 'self' then case when size_before <> 0 then size_before > 0 else size > 0 end
            when attribution = 'previous' then previous_position[4] = 1
            when attribution = 'next' then next_position[4] = 1
        end as is_long,
        case
            when is_liquidation then 'LIQUIDATE'
            when action_seq = 1 then 'OPEN'
            when transfer > 0 then 'COLLATERAL_DEPOSIT'
            when transfer < 0 then 'COLLATERAL_WITHDRAW'
            when is_flip then 'CLOSE'
            when size_before = 0 then 'OPEN'
            when size = 0 then 'CLOSE'
            when abs(size) > abs(size_before) then 'INCREASE'
            else 'DECREASE'
        end as action,
        case when is_liquidation then 'LIQUIDATION' else 'MARKET' end as trigger,
        case
            when is_liquidation then abs(liquidation_log[3]) * liquidation_log[4]
            when action_seq = 1 then abs(size) * last_price
            when is_flip then abs(size_before) * last_price
            else abs(trade_size) * last_price
        end as size_delta_e36,
        case
            when is_liquidation or (is_flip and action_seq = 0) then 0
            else abs(size) * last_price
        end as size_after_e36,
        case when is_liquidation or action_seq = 1 then 0 else transfer end as collateral_delta_e18,
        case when is_liquidation then 0 else margin end as collateral_after_e18,
        case when is_liquidation then liquidation_log[4] else last_price end as price_e18,
        case
            when is_liquidation then liquidation_fee
            when action_seq = 1 then 0
            else fee
        end as fee_e18,
        case when action_seq = 1 then 0 else -accrued end as funding_e18,
        case
            -- the trader loses the whole margin: realized = -margin_before
            when is_liquidation then liquidation_fee - accrued - margin_before
            when action_seq = 1 then 0
            else pnl
        end as realized_pnl_before_fees_e18
    from actions
),

scaled as (
    select
        amounts.*,
        size_delta_e36 * 1e-36 as size_delta_usd,
        size_after_e36 * 1e-36 as size_after_usd,
        collateral_delta_e18 * 1e-18 as collateral_delta_usd,
        collateral_after_e18 * 1e-18 as collateral_after_usd,
        price_e18 * 1e-18 as price,
        fee_e18 * 1e-18 as fee_usd,
        funding_e18 * 1e-18 as funding_usd,
        realized_pnl_before_fees_e18 * 1e-18 as realized_pnl_before_fees_usd,
        (realized_pnl_before_fees_e18 - fee_e18 - funding_e18) * 1e-18 as realized_pnl_usd
    from amounts
),

final as (
    select
        scaled.chain_id::integer as chain_id,
        'synthetix'::text as platform,
        'perps_v2'::text as version,
        scaled.contract_id::text as contract_id,
        scaled.block_number::bigint as block_number,
        blocks.block_time,
        scaled.tx_hash::text as tx_hash,
        scaled.log_index::integer as log_index,
        scaled.action_seq::integer as action_seq,
        scaled.chain_id || '-' || scaled.block_number || '-' || scaled.log_index || '-' || scaled.action_seq
            as event_id,
        scaled.trader::text as trader,
        scaled.position_id::text as position_key,
        markets.market_symbol::text as market,
        scaled.is_long,
        scaled.action::text as action,
        scaled.trigger::text as trigger,
        trim_scale(scaled.size_delta_usd) as size_delta_usd,
        trim_scale(scaled.size_after_usd) as size_after_usd,
        trim_scale(scaled.collateral_delta_usd) as collateral_delta_usd,
        trim_scale(scaled.collateral_after_usd) as collateral_after_usd,
        trim_scale(scaled.price) as price,
        trim_scale(
            case
                when scaled.size_after_usd > 0 and scaled.collateral_after_usd > 0
                    then trunc(scaled.size_after_usd / scaled.collateral_after_usd, 18)
                else 0
            end
        ) as leverage,
        trim_scale(scaled.fee_usd) as fee_usd,
        trim_scale(scaled.funding_usd) as funding_usd,
        trim_scale(scaled.realized_pnl_before_fees_usd) as realized_pnl_before_fees_usd,
        trim_scale(scaled.realized_pnl_usd) as realized_pnl_usd
    from scaled
    left join blocks
        on blocks.chain_id = scaled.chain_id
        and blocks.number = scaled.block_number
    left join markets
        on markets.chain_id = scaled.chain_id
        and markets.contract_id = scaled.contract_id
)

select * from final
