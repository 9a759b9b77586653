{#- Custom schemas are used as named (staging, intermediate, analytics, reference), not
    prefixed with the target schema: the warehouse has fixed schemas (DESIGN.md §4). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
