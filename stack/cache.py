"""Two-level read-through cache for hot reads: this process's LRU (short TTL) -> Redis (msgspec-encoded, longer
TTL) -> the loader (Postgres, or Temporal for a room's live state).

Writers call `invalidate(key)` after their write: that bumps the key's generation in Redis, deletes its value and
publishes the key, and every process's `listen()` drops its local copy. A load that began before an invalidation
stores nothing (the generation check in Redis, the invalidation counter locally), so a slow reader cannot put back
what a writer just replaced. Stampede-safe: concurrent misses in one process share one load, and across processes
one takes a short Redis lock while the others wait for its value (and load it themselves if it does not come).
Redis down: every read goes to the loader; nothing fails because of the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import typing
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import msgspec
from opentelemetry import metrics
from redis.asyncio import Redis
from redis.exceptions import RedisError

from schema.cached_reads import CachedRead

T = TypeVar("T")

CHANNEL: Final = "mocki:cache:invalidate"
GENERATION_SECONDS: Final = 86_400  # longer than any value's TTL, so a generation never goes back while it matters
LOCK_MILLISECONDS: Final = 5_000  # a loader taking longer lets the waiting processes load too
WAIT_STEP_SECONDS: Final = 0.02
RESUBSCRIBE_SECONDS: Final = 1.0

log = logging.getLogger(__name__)
_reads = metrics.get_meter("mocki.cache").create_counter(
    "mocki.cache.reads", description="cached reads by cache and the level that answered (local, redis, loader)"
)

# Store only if no invalidation came since the load began (its generation is unchanged).
_STORE_IF_CURRENT = """
if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
"""
_INVALIDATE = """
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[3])
"""
_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end"
# One step, so no loader can store its value and release the lock between a reader's miss and its lock attempt
# (two steps let a burst across processes load twice). Returns {value or nil, generation or nil, 1 if locked}.
_READ_OR_LOCK = """
local value = redis.call('GET', KEYS[1])
local generation = redis.call('GET', KEYS[2])
if value then return {value, generation, 0} end
local locked = redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2])
return {false, generation, locked and 1 or 0}
"""


class TwoLevelCache:
    def __init__(self, redis: Redis, *, enabled: bool = True, local_entries: int = 10_000) -> None:
        self._redis = redis
        self.enabled = enabled
        self._local: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._local_entries = local_entries
        self._loading: dict[str, asyncio.Future[Any]] = {}
        self._invalidations = 0  # local invalidations seen; a load that saw one in flight keeps its result out

    async def get(
        self,
        read: CachedRead,
        key: str,
        kind: type[T],
        load: Callable[[], Awaitable[T]],
        keep: Callable[[T], bool] = lambda _: True,
    ) -> T:
        """The value of `key`, loaded by `load` when no level holds it; a loaded value `keep` refuses (one about
        to change with no write to invalidate it) is returned but stored in neither level."""
        if not self.enabled:
            return await load()
        held = self._local.get(key)
        if held is not None and held[0] > time.monotonic():
            self._local.move_to_end(key)
            _reads.add(1, {"cache": read.name, "level": "local"})
            return typing.cast("T", held[1])
        pending = self._loading.get(key)
        if pending is not None:
            try:
                return typing.cast("T", await asyncio.shield(pending))
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this caller was cancelled
                return await self.get(read, key, kind, load, keep)  # the one loading was: load it here
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        invalidations = self._invalidations
        try:
            value = await self._read_through(read, key, kind, load, keep)
        except asyncio.CancelledError:
            future.cancel()  # its request went away; whoever waited loads for themselves
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it; none waiting is not an "unretrieved" error
            raise
        else:
            future.set_result(value)
            if invalidations == self._invalidations and keep(value):
                self._remember(key, value, read.local_seconds)
            return value
        finally:
            del self._loading[key]

    async def invalidate(self, *keys: str) -> None:
        """After a write: no level serves the old value of `keys` again, in this process or any other."""
        for key in keys:
            self._forget(key)
        if not self.enabled:
            return
        try:
            for key in keys:
                await self._redis.eval(
                    _INVALIDATE, 2, f"cache:{key}", f"cache-gen:{key}", CHANNEL, GENERATION_SECONDS, key
                )
        except RedisError as exc:
            # Redis holds nothing newer than its TTL; other processes' local copies end within local_seconds.
            log.warning("cache invalidation not published (Redis unavailable): %s", exc)

    async def listen(self) -> None:
        """Drop local copies other processes invalidate; run for the process's life (a task)."""
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._forget_all()  # invalidations sent while unsubscribed were missed
                    while True:
                        # Polled, not `listen()`ed: the client's short socket timeout would end an idle listen.
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if message is not None:
                            self._forget(message["data"].decode())
            except (RedisError, OSError) as exc:
                log.warning("cache invalidations unavailable, local copies cleared: %s", exc)
                self._forget_all()
                await asyncio.sleep(RESUBSCRIBE_SECONDS)

    async def _read_through(
        self, read: CachedRead, key: str, kind: type[T], load: Callable[[], Awaitable[T]], keep: Callable[[T], bool]
    ) -> T:
        value_key, generation_key, lock_key = f"cache:{key}", f"cache-gen:{key}", f"cache-lock:{key}"
        token = uuid.uuid4().hex
        try:
            stored, generation, locked = typing.cast(
                "list[Any]",
                await self._redis.eval(_READ_OR_LOCK, 3, value_key, generation_key, lock_key, token, LOCK_MILLISECONDS),
            )
            if stored is None and not locked:
                stored = await self._wait_for(value_key, lock_key)
            if stored is not None:
                _reads.add(1, {"cache": read.name, "level": "redis"})
                return msgspec.msgpack.decode(stored, type=kind)
        except RedisError as exc:
            log.warning("cache unavailable, reading %s from its source: %s", read.name, exc)
            _reads.add(1, {"cache": read.name, "level": "loader"})
            return await load()
        _reads.add(1, {"cache": read.name, "level": "loader"})
        try:
            value = await load()
            if not keep(value):
                return value
            with contextlib.suppress(RedisError):  # unstored, the next read loads it again
                await self._redis.eval(
                    _STORE_IF_CURRENT,
                    2,
                    value_key,
                    generation_key,
                    generation.decode() if generation else "0",
                    msgspec.msgpack.encode(value),
                    read.redis_seconds,
                )
            return value
        finally:
            with contextlib.suppress(RedisError):  # the lock expires by itself
                await self._redis.eval(_UNLOCK, 1, lock_key, token)

    async def _wait_for(self, value_key: str, lock_key: str) -> bytes | None:
        """Another process is loading this key: its stored value, or None once it gave up (lock released or
        expired) without storing one, e.g. because a write invalidated it meanwhile."""
        while True:
            await asyncio.sleep(WAIT_STEP_SECONDS)
            stored, locked = typing.cast("list[bytes | None]", await self._redis.mget(value_key, lock_key))
            if stored is not None or locked is None:
                return stored

    def _remember(self, key: str, value: Any, seconds: float) -> None:
        self._local[key] = (time.monotonic() + seconds, value)
        self._local.move_to_end(key)
        while len(self._local) > self._local_entries:
            self._local.popitem(last=False)

    def _forget(self, key: str) -> None:
        self._invalidations += 1
        self._local.pop(key, None)

    def _forget_all(self) -> None:
        self._invalidations += 1
        self._local.clear()
