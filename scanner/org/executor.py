"""One executor for the org scan: a local process pool, or a Dask cluster's workers.

Both speak `concurrent.futures`; `TaskExecutor.submit_task` adds what only a cluster
understands: a deterministic task key (a resubmitted task is the same task), retries when
a worker dies, the `GIT` resource that caps concurrent clones per worker host
(`dask worker --resources GIT=2`), and placement near a worker (a repository's scan task goes
to the worker whose mirror its fetch just filled). Workers run the code they are sent: only
point `--scheduler` at a cluster on a trusted network.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from scanner.exits import UsageError

T = TypeVar("T")
DASK_EXTRA = "pip install 'devtoken[dask]'"
DASK_RETRIES = 2  # a task whose worker died is run again this many times


class TaskExecutor(Executor):
    """A `concurrent.futures.Executor` with per-task placement hints for a cluster."""

    def __init__(self, inner: Executor, cluster: Any = None, git_resource: bool = False) -> None:
        self.inner = inner
        self.cluster = cluster  # the distributed.Client, or None for the local pool
        self.git_resource = git_resource  # the cluster's workers declare a GIT resource

    @property
    def distributed(self) -> bool:
        return self.cluster is not None

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self.inner.submit(fn, *args, **kwargs)

    def submit_task(
        self,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        key: str,
        git: bool = False,
        near: str = "",
        pinned: bool = True,
    ) -> Future[T]:
        """`fn(*args)`; on a cluster under `key`, retried, holding a GIT slot if `git`, and on
        the worker at address `near`: only there when `pinned` (Dask's work stealing would
        move it to an idle worker without the mirror, which clones it all again; a task
        pinned to a worker that left waits until `departed` names it and it is resubmitted),
        else there while that worker is alive."""
        if self.cluster is None:
            return self.inner.submit(fn, *args)
        hints: dict[str, Any] = {"key": key, "pure": True, "retries": DASK_RETRIES}
        if git and self.git_resource:
            hints["resources"] = {"GIT": 1}
        if near:
            hints["workers"] = [near]
            hints["allow_other_workers"] = not pinned
        future: Future[T] = self.inner.submit(fn, *args, **hints)
        return future

    def departed(self, addresses: set[str]) -> set[str]:
        """Those worker addresses no longer in the cluster (none for a local pool)."""
        if self.cluster is None:
            return set()
        workers = self.cluster.scheduler_info(n_workers=-1).get("workers", {})
        return addresses - set(workers)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self.cluster is not None:  # distributed's executor takes no cancel_futures
            self.inner.shutdown(wait=wait and not cancel_futures)
        else:
            self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


@contextmanager
def make_executor(jobs: int, scheduler: str | None = None) -> Iterator[TaskExecutor]:
    """`jobs` local worker processes (spawned: no forked locks or threads), or the workers
    of the Dask scheduler at `scheduler` (tcp://HOST:8786); a missing `distributed` is a
    UsageError naming the extra."""
    if jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if scheduler is None:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
        try:
            yield TaskExecutor(pool)
        except BaseException:  # interrupted or failed: queued tasks are not waited for
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return
    try:
        import distributed
    except ImportError:
        raise UsageError(f"--scheduler needs the Dask client: {DASK_EXTRA}") from None
    try:
        connect: Any = distributed.Client  # untyped: called through Any
        client: Any = connect(scheduler, timeout=30, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    try:
        inner = client.get_executor()
        yield TaskExecutor(inner, client, _workers_have_git(client))
    finally:
        client.close()


def this_worker() -> str:
    """The address of the Dask worker running the calling task, "" anywhere else (a local
    pool's process, the driver). Only asked where `distributed` is already imported: a worker
    has imported it, a pool process never needs it."""
    distributed: Any = sys.modules.get("distributed")
    if distributed is None:
        return ""
    try:
        return str(distributed.get_worker().address)
    except ValueError:  # not inside a task on a worker
        return ""


def _workers_have_git(client: Any) -> bool:
    """Ask for the GIT resource only when some worker offers it: a task wanting a resource
    no worker has would wait forever."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return any("GIT" in (info.get("resources") or {}) for info in workers.values())
