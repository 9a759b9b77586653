-- The three schemas of DESIGN.md §4: what came from the chain, what dbt builds, and the
-- application's own state (simulations, live copying, API keys).
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS analytics;
CREATE SCHEMA IF NOT EXISTS app;
