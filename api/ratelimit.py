"""Rate limits per token: a fixed window of one minute, counted in Redis (shared by every process), or
in this process when there is no Redis (the embedded default)."""

import threading
import time

WINDOW_SECONDS = 60


class MemoryCounter:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}

    def hit(self, key: str, window: int) -> int:
        with self._lock:
            if len(self._counts) > 10_000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            self._counts[(key, window)] = self._counts.get((key, window), 0) + 1
            return self._counts[(key, window)]


class RedisCounter:
    def __init__(self, connection):
        self.connection = connection
        self.fallback = MemoryCounter()  # while Redis cannot be reached

    def hit(self, key: str, window: int) -> int:
        try:
            return self._hit(key, window)
        except Exception:  # Redis unreachable: count in this process rather than not at all
            return self.fallback.hit(key, window)

    def _hit(self, key: str, window: int) -> int:
        name = f"madam:ratelimit:{key}:{window}"
        pipe = self.connection.pipeline()
        pipe.incr(name)
        pipe.expire(name, WINDOW_SECONDS * 2)
        return int(pipe.execute()[0])


def counter_for(redis_url: str | None):
    if redis_url:
        from redis import Redis

        return RedisCounter(Redis.from_url(redis_url, socket_timeout=2))
    return MemoryCounter()


def check(counter, key: str, limit: int, now: float | None = None) -> tuple[bool, int, int]:
    """(allowed, remaining, seconds until the window resets) for one more request under `key`."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    used = counter.hit(key, window)
    reset = int((window + 1) * WINDOW_SECONDS - now) + 1
    return used <= limit, max(limit - used, 0), reset
