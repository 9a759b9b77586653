{#- Incremental models over chain data re-process a window of blocks per chain:

      config(materialized='incremental', incremental_strategy='append',
             pre_hook="{{ delete_block_window() }}",
             post_hook=["{{ record_block_window() }}"])
      ... from source where {{ in_block_window() }}

    Each build records, per chain, the newest block it has modelled and when it started
    (`record_block_window`, in dbt_state.incremental_builds). On the next incremental run the
    window of chain c starts at the lower of
      - `reorg_lookback_blocks` below that newest block, and
      - the first changed block of every range the indexer (re-)ingested for c since that
        build (raw.ingested_ranges.changed_from, ingested_at): a backfill of an old range, or
        a partition rolled back after a reorg and ingested again, lands below the newest
        block; the growing head partition only adds blocks after its previous end.
    The pre-hook deletes the model's rows in the window and the model inserts what the
    sources hold there now: rows are replaced, never doubled, never left behind. Chains the
    model has not seen yet are taken whole; on a full build the filter is `true`. Ranges
    committed up to `ingest_overlap` before a build are taken again by the next one, so an
    ingestion that commits while dbt compiles is never missed. -#}

{% macro block_window_state_table() -%}
    dbt_state.incremental_builds
{%- endmacro %}

{% macro create_block_window_state() %}
    create schema if not exists dbt_state;
    create table if not exists {{ block_window_state_table() }} (
        model         text        not null,
        chain_id      integer     not null,
        newest_block  bigint      not null,
        built_at      timestamptz not null,
        primary key (model, chain_id)
    );
    create table if not exists {{ removed_events_table() }} (
        chain_id        integer     not null,
        platform        text        not null,
        trader          text        not null,
        position_scope  text        not null,
        position_key    text        not null,
        block_time      timestamptz not null,
        removed_at      timestamptz not null
    );
{% endmacro %}

{% macro removed_events_table() -%}
    dbt_state.removed_events
{%- endmacro %}

{% macro block_window_starts() %}
    {%- set starts = {} -%}
    {%- if execute and this is not none and is_incremental() -%}
        {%- set rows = run_query(
            "with built as (
                select chain_id, newest_block, built_at
                from " ~ block_window_state_table() ~ " where model = '" ~ this ~ "'
            ),
            reingested as (
                select r.chain_id, min(coalesce(r.changed_from, r.from_block)) as start
                from raw.ingested_ranges r
                join built b on b.chain_id = r.chain_id
                    and r.ingested_at > b.built_at - interval '" ~ var('ingest_overlap') ~ "'
                group by r.chain_id
            )
            select b.chain_id, least(b.newest_block - " ~ var('reorg_lookback_blocks') ~ ", r.start)
            from built b left join reingested r using (chain_id)"
        ) -%}
        {%- for row in rows -%}
            {%- do starts.update({row[0]: row[1]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(starts) }}
{% endmacro %}

{% macro in_block_window(chain_column='chain_id', block_column='block_number') %}
    {%- if this is none or not is_incremental() -%}
        true
    {%- else -%}
        {%- set starts = block_window_starts() -%}
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

{% macro record_block_window(modelled=none) %}
    {#- `modelled`: the relation whose (chain_id, block_number) this model has consumed;
        the model itself unless it keeps no block numbers per chain -#}
    delete from {{ block_window_state_table() }} where model = '{{ this }}';
    insert into {{ block_window_state_table() }} (model, chain_id, newest_block, built_at)
    select '{{ this }}', chain_id, max(block_number), '{{ run_started_at.isoformat() }}'::timestamptz
    from {{ modelled if modelled is not none else this }}
    group by chain_id
{% endmacro %}

{#- The event log's window is deleted and inserted again; rows that do not come back (a reorg
    dropped the trade, the raw data was replaced) would leave the positions and PnL built
    from them behind. So the event log notes what each window held before it is deleted
    (`delete_event_log_window`), and the downstream models rebuild those keys too
    (`removed_since_last_build`). Notes older than a week are pruned. -#}

{% macro delete_event_log_window() %}
    {%- if this is not none and is_incremental() -%}
        delete from {{ removed_events_table() }} where removed_at < now() - interval '7 days';
        insert into {{ removed_events_table() }}
        select chain_id, platform, trader, position_scope, position_key, min(block_time), clock_timestamp()
        from {{ this }}
        where {{ in_block_window() }}
        group by 1, 2, 3, 4, 5;
        delete from {{ this }} where {{ in_block_window() }}
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}

{% macro removed_since_last_build() %}
    {#- the event-log rows deleted since this model's previous build -#}
    select r.*
    from {{ removed_events_table() }} r
    where r.removed_at > coalesce(
        (select min(built_at) from {{ block_window_state_table() }} where model = '{{ this }}'),
        '-infinity'::timestamptz
    )
{% endmacro %}
