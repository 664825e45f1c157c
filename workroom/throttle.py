"""Throttles counted in Flask-Limiter's storage (memory in the embedded server, Redis at
scale): sign-in attempts, kiosk pairing and check-ins.

Each is a fixed window per scope and key (usually the client address), checked inside the
view where its exemptions are known, so that requests it does not concern pay nothing.
"""

from __future__ import annotations

import functools
import math
import time

from limits import RateLimitItem, parse

from workroom.extensions import limiter


@functools.lru_cache(maxsize=64)
def _item(limit: str) -> RateLimitItem:
    return parse(limit)


def hit(limit: str, scope: str, key: str) -> int | None:
    """Count one hit of ``key`` against ``limit`` ("30 per minute").

    None while within the limit; once over it, the whole seconds until the window
    resets, for a Retry-After header.
    """
    item = _item(limit)
    strategy = limiter.limiter
    if strategy.hit(item, scope, key):
        return None
    reset_at = strategy.get_window_stats(item, scope, key).reset_time
    return max(1, math.ceil(reset_at - time.time()))
