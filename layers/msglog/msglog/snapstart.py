"""Lambda SnapStart: what must not be shared between execution environments restored from one snapshot.

With SnapStart, Lambda initialises a function once (at publish), snapshots the process and
resumes every new environment from that copy: anything computed at import (random state, clocks,
caches, clients and their credentials) would be the same in all of them. Modules that keep such
state register a hook here with `after_restore`; the runtime calls the hooks in registration
order after each restore (docs/decisions.md, "SnapStart (issue 21)").

`before_snapshot` hooks run once, at publish: work that then costs no request anything.
`snapshot_restore_py` exists only inside Lambda's Python runtimes (not on PyPI): elsewhere the
hooks stay in this module's own lists, and `snapshotting()` / `restored()` run them as the runtime
would (tests, bench).
"""

from __future__ import annotations

import random
from collections.abc import Callable

try:
    from snapshot_restore_py import register_after_restore as _runtime_after_restore
    from snapshot_restore_py import register_before_snapshot as _runtime_before_snapshot
except ImportError:  # not in Lambda: `snapshotting()` and `restored()` play the runtime's part
    _runtime_after_restore = _runtime_before_snapshot = None

Hook = Callable[[], None]
_hooks: list[Hook] = []
_priming: list[Hook] = []


def before_snapshot(hook: Hook) -> Hook:
    """Register `hook` to run once at publish, before the snapshot: work no request then waits for."""
    _priming.append(hook)
    if _runtime_before_snapshot is not None:
        _runtime_before_snapshot(hook)
    return hook


def snapshotting() -> None:
    """Run the before-snapshot hooks as Lambda does (reverse order; only where its runtime is absent)."""
    for hook in reversed(_priming):
        hook()


def after_restore(hook: Hook) -> Hook:
    """Register `hook` to run in each environment restored from the snapshot (a decorator)."""
    _hooks.append(hook)
    if _runtime_after_restore is not None:
        _runtime_after_restore(hook)
    return hook


def restored() -> None:
    """Run the hooks as Lambda does after a restore (only where its runtime is absent)."""
    for hook in _hooks:
        hook()


@after_restore
def _reseed_random() -> None:
    # The `random` module's state was seeded once, at import: every restored copy would draw the
    # same sequence (purge and health-check run ids). ULIDs use os.urandom, which restores can't copy.
    random.seed()
