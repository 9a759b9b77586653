"""copytrade: copy-trading research for on-chain perpetual venues.

The domain library. It knows nothing of Dagster, dbt or HTTP frameworks: the Dagster code
location (``orchestration``) and the API (``api``) are thin layers over it.
"""

__version__ = "0.1.0"
