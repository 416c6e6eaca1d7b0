"""Independent DynamoDB requests at once, on threads a container keeps (with their connections).

A 1,000-event webhook request reads 100 keys a BatchGetItem and writes 25 items a BatchWriteItem:
one after the other, that is some 50 round trips; at once, the time of a few. What runs here and
fans out again runs its calls in its own thread (the pool's threads must not wait on each other).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from functools import cache
from threading import current_thread
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pynamodb.models import Model

BATCH_GET_MAX = 100  # keys per BatchGetItem
BATCH_WRITE_MAX = 25  # items per BatchWriteItem
WORKERS = 8  # under botocore's 10 pooled connections per client
_PREFIX = "fanout"


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix=_PREFIX)


def each[T, R](call: Callable[[T], R], args: Sequence[T]) -> list[R]:
    """`call(arg)` for every arg, at once; the results in order. Every call ends before the first
    failure is raised: a retry of the whole finds no request of this attempt still running."""
    if len(args) < 2 or current_thread().name.startswith(_PREFIX):
        return [call(arg) for arg in args]
    futures = [_pool().submit(call, arg) for arg in args]
    wait(futures)
    return [future.result() for future in futures]


def get_all(model: type[Model], wanted: Sequence[tuple[str, str]], *, consistent: bool = False,
            attributes: Sequence[str] | None = None) -> list[Any]:
    """The items of `wanted` that exist (any number of keys): a BatchGetItem per 100, at once."""
    def get(chunk: Sequence[tuple[str, str]]) -> list[Any]:
        return list(model.batch_get(chunk, consistent_read=consistent,
                                    attributes_to_get=list(attributes) if attributes else None))

    _connect(model)
    return [item for found in each(get, _chunks(wanted, BATCH_GET_MAX)) for item in found]


def save_all(model: type[Model], items: Sequence[Model]) -> None:
    """Put `items` (any number): a BatchWriteItem per 25, at once."""
    def save(chunk: Sequence[Model]) -> None:
        with model.batch_write() as batch:
            for item in chunk:
                batch.save(item)

    _connect(model)
    each(save, _chunks(items, BATCH_WRITE_MAX))


def _connect(model: type[Model]) -> None:
    """The botocore client, made here if not yet: made first by the threads, it would be made by each."""
    model._get_connection().connection.client  # noqa: B018 (a property that creates it)


def _chunks[T](values: Sequence[T], size: int) -> list[Sequence[T]]:
    return [values[start:start + size] for start in range(0, len(values), size)]
