{#- Generic test (Synthetix Perps v2): the account's margin in a market moves only by what the
    actions say. Per account and market, in log order, every action satisfies
        realized_pnl_usd = collateral_after_usd - collateral_after_usd of the previous action - collateral_delta_usd
    i.e. Synthetix's `margin = margin_before + transfer + pnl + accrued funding - fee` (a
    liquidation takes the whole margin: realized = -margin_before, collateral_after = 0).
    A failure means a PositionModified, a MarginTransferred or a FundingRecomputed is missing
    (an incomplete history) or was matched to the wrong action. The first action of an
    account in the indexed range is not checked: the margin before it may predate the range. -#}
{% test synthetix_margin_identity(model) %}
with

actions as (
    select
        event_id,
        realized_pnl_usd,
        collateral_delta_usd,
        collateral_after_usd,
        lag(collateral_after_usd) over (
            partition by chain_id, contract_id, trader
            order by block_number, log_index, action_seq
        ) as collateral_before_usd
    from {{ model }}
)

select *
from actions
-- an account's first action in the indexed range has no known margin before it
where collateral_before_usd is not null
    and realized_pnl_usd <> collateral_after_usd - collateral_before_usd - collateral_delta_usd
{% endtest %}
