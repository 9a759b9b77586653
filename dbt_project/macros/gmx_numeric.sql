{#- Exact numeric helpers for the GMX staging models (PostgreSQL numeric; no float, no rounding).

    GMX carries USD amounts, prices and factors as integers with 30 decimals
    (Precision.FLOAT_PRECISION in v2, PRICE_PRECISION in v1). -#}

{#- `value` / 1e30, exactly: a multiplication by a numeric literal with scale 30 is exact in
    PostgreSQL (the result scale is the sum of the scales), where a division rounds to a
    scale PostgreSQL picks. -#}
{% macro gmx_from_e30(value) -%}
    ({{ value }}::numeric * 0.000000000000000000000000000001)
{%- endmacro %}

{#- floor(a / b), as Python's `a // b` computes it (toward minus infinity), exactly:
    div() truncates toward zero, so a negative non-integer quotient steps down by one. -#}
{% macro gmx_floor_div(a, b) -%}
    (div(({{ a }})::numeric, ({{ b }})::numeric)
        - case
            when mod(({{ a }})::numeric, ({{ b }})::numeric) <> 0
                and ((({{ a }})::numeric < 0) <> (({{ b }})::numeric < 0))
            then 1 else 0
        end)
{%- endmacro %}

{#- numerator / denominator truncated to `scale` decimals (the ledger's leverage), exactly;
    0 unless both are positive. -#}
{% macro gmx_truncated_ratio(numerator, denominator, scale=18) -%}
    (case
        when ({{ numerator }}) > 0 and ({{ denominator }}) > 0
        then div(({{ numerator }})::numeric * 1e{{ scale }}, ({{ denominator }})::numeric) * 1e-{{ scale }}
        else 0
    end)
{%- endmacro %}
