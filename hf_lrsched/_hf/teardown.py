"""An orderly end of ``torch.distributed``, so that a multi-process run exits with status 0 every time.

The defect (torch 2.13, gloo; a core of a rank that aborted at exit, read with gdb): every gloo work
captures the thread-local state of the call that made it, which holds a Python object, so the gloo
worker thread that frees a finished work (the script's last barrier, say) needs the GIL. At exit:

* if the worker asks for the GIL once the interpreter is finalizing, CPython ends the thread with
  ``pthread_exit``, whose unwinding crosses a ``noexcept`` destructor: ``std::terminate``,
  "terminate called without an active exception", SIGABRT (pytorch/pytorch#190489);
* if the process group's last reference is dropped with the GIL held (DDP's ``Reducer``, whose
  binding keeps the GIL), ``~ProcessGroupGloo`` joins a worker that waits for the GIL: a hang.

The Python ``ProcessGroup`` object releases the GIL when it is freed. So, on every rank: wait for
every rank, keep a Python reference to the group, destroy it, free what else holds it (DDP models,
through ``gc``), then drop the reference: the group is freed without the GIL, its workers finish
their last work and are joined, all while the interpreter is fully alive.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
from collections.abc import Iterator

_kept: list = []  # Python references to destroyed process groups, dropped by release()
_release_registered = False


def _distributed():
    import torch.distributed as dist

    return dist if dist.is_available() else None


def keep_process_group(group=None) -> None:
    """Keep a Python reference to ``group`` (default: the default group), so that it is freed by :func:`release`."""
    dist = _distributed()
    if dist is None:
        return
    group = group if group is not None else dist.group.WORLD
    if group is not None:
        _kept.append(group)


def end_process_group() -> None:
    """Wait for every rank, then destroy the default process group, keeping it for :func:`release`.

    Nothing to do when the group was never created or is already destroyed.
    """
    dist = _distributed()
    if dist is None or not dist.is_initialized():
        return
    dist.barrier()  # no rank frees its side while a peer still needs it
    keep_process_group()
    dist.destroy_process_group()


def release() -> None:
    """Free the kept process groups now, without the GIL, joining their worker threads.

    ``gc.collect()`` first frees what holds them in reference cycles (an ``Accelerator`` and its DDP
    model), so the kept references are the last ones.
    """
    gc.collect()
    _kept.clear()


def release_at_exit() -> None:
    """Run :func:`release` at exit, before the interpreter starts finalizing (``atexit`` runs first)."""
    global _release_registered
    if not _release_registered:
        atexit.register(release)
        _release_registered = True


@contextlib.contextmanager
def orderly_end() -> Iterator[None]:
    """Around a script run by ``hf-lrsched run``: when it ends well, end its process group in order.

    While the script runs, a group it destroys itself (``accelerator.end_training()``) is kept, so
    that freeing its DDP model on return does not free the group with the GIL held. When the script
    returns (or exits with status 0), a group it left is ended with :func:`end_process_group`; then
    everything kept is released. After a failure nothing waits for the other ranks (they may be
    stuck in a collective): the launcher stops them.
    """
    dist = _distributed()
    original = dist.destroy_process_group if dist is not None else None

    if original is not None:

        @functools.wraps(original)
        def destroy_process_group(group=None):
            keep_process_group(group)
            original(group)

        dist.destroy_process_group = destroy_process_group
    succeeded = False
    try:
        yield
        succeeded = True
    except SystemExit as stop:
        succeeded = stop.code in (None, 0)
        raise
    finally:
        if original is not None:
            dist.destroy_process_group = original
        if succeeded:
            end_process_group()
        release()
