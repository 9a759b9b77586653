-- Copy-trading simulations (DESIGN.md §5): the stored, hashed inputs of each simulation and
-- its outputs per plan variant, per bot (leader) and as equity curves. The id is derived from
-- the input hash, so the same inputs name the same simulation; a rerun replaces its outputs
-- in one transaction.
CREATE TABLE IF NOT EXISTS app.simulations (
    simulation_id text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL DEFAULT 'manual' CHECK (kind IN ('manual', 'auto')),
    platform text,
    window_start timestamptz NOT NULL,
    window_end timestamptz NOT NULL,
    leaders text[] NOT NULL CHECK (cardinality(leaders) > 0),
    settings jsonb NOT NULL,  -- list of CopySettings, one per variant
    input_hash text NOT NULL UNIQUE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
    progress real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    error text,
    finished_at timestamptz,
    CHECK (window_end > window_start)
);

CREATE INDEX IF NOT EXISTS simulations_created_at ON app.simulations (created_at DESC);

CREATE TABLE IF NOT EXISTS app.simulation_plans (
    simulation_id text NOT NULL REFERENCES app.simulations ON DELETE CASCADE,
    variant integer NOT NULL,
    settings jsonb NOT NULL,
    metrics jsonb NOT NULL,
    net_pnl float8 NOT NULL,
    follower_pnl float8 NOT NULL,
    leader_pnl float8 NOT NULL,
    cost float8 NOT NULL,
    roi float8 NOT NULL,
    max_drawdown_usd float8 NOT NULL,
    max_drawdown_pct float8 NOT NULL,
    trades integer NOT NULL,
    rank integer NOT NULL,
    PRIMARY KEY (simulation_id, variant)
);

CREATE TABLE IF NOT EXISTS app.simulation_bots (
    simulation_id text NOT NULL REFERENCES app.simulations ON DELETE CASCADE,
    variant integer NOT NULL,
    leader text NOT NULL,
    metrics jsonb NOT NULL,
    net_pnl float8 NOT NULL,
    follower_pnl float8 NOT NULL,
    leader_pnl float8 NOT NULL,
    cost float8 NOT NULL,
    roi float8 NOT NULL,
    max_drawdown_usd float8 NOT NULL,
    max_drawdown_pct float8 NOT NULL,
    trades integer NOT NULL,
    PRIMARY KEY (simulation_id, variant, leader)
);

-- leader '' is the plan's curve (the sum of its bots)
CREATE TABLE IF NOT EXISTS app.simulation_equity (
    simulation_id text NOT NULL REFERENCES app.simulations ON DELETE CASCADE,
    variant integer NOT NULL,
    leader text NOT NULL,
    time timestamptz NOT NULL,
    equity float8 NOT NULL,
    PRIMARY KEY (simulation_id, variant, leader, time)
);
