{#- Incremental models over chain data re-process a trailing window of blocks per chain:

      config(materialized='incremental', incremental_strategy='append',
             pre_hook="{{ delete_block_window() }}")
      ... from source where {{ in_block_window() }}

    On an incremental run the window of chain c starts `reorg_lookback_blocks` below the
    newest block already modelled for c; the pre-hook deletes the model's rows in the window
    and the model inserts what the sources hold there now. Rows of blocks below the window are
    final; a reorg or a re-ingested partition inside the window is replaced, never doubled.
    Chains the model has not seen yet are taken whole. On a full build the filter is `true`.

    The starts are read once per run, at compile time, before the pre-hook deletes anything,
    so the delete and the insert use the same boundaries. -#}

{% macro block_window_starts(watermark_column='block_number') %}
    {%- set starts = {} -%}
    {%- if execute and this is not none and is_incremental() -%}
        {%- set rows = run_query(
            "select chain_id, max(" ~ watermark_column ~ ") - " ~ var('reorg_lookback_blocks') ~ " from " ~ this ~ " group by chain_id"
        ) -%}
        {%- for row in rows -%}
            {%- do starts.update({row[0]: row[1]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(starts) }}
{% endmacro %}

{% macro in_block_window(chain_column='chain_id', block_column='block_number', watermark_column='block_number') %}
    {#- `watermark_column`: the model's own column that records the newest block it holds -#}
    {%- if this is none or not is_incremental() -%}
        true
    {%- else -%}
        {%- set starts = block_window_starts(watermark_column) -%}
        ({%- for chain, start in starts.items() %}
            ({{ chain_column }} = {{ chain }} and {{ block_column }} >= {{ start }}) or
        {%- endfor %}
            {{ chain_column }} not in ({{ (starts.keys() | list + [-1]) | join(', ') }}))
    {%- endif -%}
{% endmacro %}

{% macro delete_block_window() %}
    {%- if this is not none and is_incremental() -%}
        delete from {{ this }} where {{ in_block_window() }}
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}
