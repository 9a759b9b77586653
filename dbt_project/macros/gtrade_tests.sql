{#- Generic test: every row satisfies a SQL boolean expression (no dbt_utils here). The rows
    that do not are returned. -#}
{% test gtrade_expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
