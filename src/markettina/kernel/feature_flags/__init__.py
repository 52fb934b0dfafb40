"""Feature flags: global defaults, per-account overrides, percentage rollout, and a cache
per process that a NOTIFY on every change empties."""

from .cache import Feature, Features, FlagCache, flag_cache
from .listener import FlagChangeListener
from .rollout import in_rollout, rollout_bucket
from .service import features_for, is_enabled, read_features

__all__ = [
    "Feature",
    "Features",
    "FlagCache",
    "FlagChangeListener",
    "features_for",
    "flag_cache",
    "in_rollout",
    "is_enabled",
    "read_features",
    "rollout_bucket",
]
