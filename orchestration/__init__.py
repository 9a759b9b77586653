"""The Dagster code location of copytrade: thin assets over the ``copytrade`` library."""
