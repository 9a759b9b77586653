{#- gTrade (GNSMultiCollatDiamond) unit conversions, exact numeric arithmetic (a multiplication
    by a decimal literal never rounds, unlike a numeric division).

    The collateral is USDC (collateralIndex 3 on the Arbitrum diamond, 6 decimals) valued at
    exactly $1, as the ledger values it; prices carry 10 decimals, leverage 3. -#}

{% macro gtrade_collateral_to_usd(amount) -%}
    (({{ amount }}) * 0.000001)
{%- endmacro %}

{% macro gtrade_price_to_usd(price) -%}
    (({{ price }}) * 0.0000000001)
{%- endmacro %}

{#- getPositionSizeCollateral: collateral * leverage (1e3) / 1e3, floored (amounts are >= 0). -#}
{% macro gtrade_position_size(collateral_amount, leverage) -%}
    div(({{ collateral_amount }})::numeric * ({{ leverage }}), 1000)
{%- endmacro %}

{#- A trade is (user, index): abi.encodePacked(user, uint32 index), i.e. the lower-case address
    followed by the index as 8 hex digits (the ledger's position_key). -#}
{% macro gtrade_position_key(trader, trade_index) -%}
    ({{ trader }} || lpad(to_hex(({{ trade_index }})::bigint), 8, '0'))
{%- endmacro %}
