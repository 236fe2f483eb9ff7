"""Where a sweep's tasks run: here, on a local process pool, or on a Dask cluster.

Three kitchens for one recipe card (``sim.sweep.run_task``): the same task gives
the same result wherever it is cooked, so the pool only decides how fast. Each
pool tells ``on_done`` about every task as it ends, with its result or why it
failed; a task that fails (or whose worker dies) is tried once more, and then
reported, and the sweep goes on with the rest.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from sim.sweep import run_task

__all__ = ["ATTEMPTS", "PoolError", "run_dask", "run_here", "run_local"]


class Job(Protocol):
    """A task a pool runs: a sweep's run (``sim.sweep.Task``), a check's seed."""

    @property
    def id(self) -> str:
        """What names the task in the ledger and in reports."""
        ...


OnDone = Callable[[Any, dict[str, Any] | None, str | None], None]
"""Told ``(task, result, None)`` when a task ended, ``(task, None, why)`` when it failed."""
TaskFn = Callable[[Any], dict[str, Any]]
ATTEMPTS = 2
"""Tries of a task before it is reported as failed."""
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a Dask scheduler to answer."""
WORKERS_TIMEOUT = 15.0
"""Seconds to wait for a scheduler's first worker."""
DIED = "its worker process died (twice, the second time alone)"
"""Why a task failed when its worker died (the same words on every pool)."""


class PoolError(RuntimeError):
    """The pool cannot run at all (a Dask scheduler that does not answer)."""


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_here(tasks: Sequence[Job], on_done: OnDone, task_fn: TaskFn = run_task) -> None:
    """Run every task in this process, one after another."""
    for task in tasks:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                result = task_fn(task)
            except Exception as exc:  # a bug in one run must not end the sweep
                if attempt == ATTEMPTS:
                    on_done(task, None, _why(exc))
                continue
            on_done(task, result, None)
            break


def _quiet_worker() -> None:
    """In a worker: leave Ctrl-C to the parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_local(
    tasks: Sequence[Job], workers: int, on_done: OnDone, task_fn: TaskFn = run_task
) -> None:
    """Run the tasks on ``workers`` local processes.

    At most ``workers`` tasks are handed out at a time, so when a worker dies only
    the tasks then running are suspects: each runs again alone on a fresh pool, and
    one that kills its worker alone too is reported (the others carry on).
    """
    context = multiprocessing.get_context("fork" if "fork" in _methods() else "spawn")
    queue = deque(tasks)
    suspects: deque[Job] = deque()
    failures: dict[str, int] = {}
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet_worker)
    running: dict[Future[dict[str, Any]], Job] = {}

    def failed(task: Job, why: str, suspect: bool = False) -> None:
        failures[task.id] = failures.get(task.id, 0) + 1
        if failures[task.id] >= ATTEMPTS:
            on_done(task, None, why)
        else:
            (suspects if suspect else queue).append(task)

    try:
        while queue or suspects or running:
            if suspects and not running:  # alone, so that a death names its task
                task = suspects.popleft()
                running[pool.submit(task_fn, task)] = task
            while queue and not suspects and len(running) < workers:
                task = queue.popleft()
                running[pool.submit(task_fn, task)] = task
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for future in finished:
                task = running.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    failed(task, DIED, True)
                except Exception as exc:
                    failed(task, _why(exc))
                else:
                    on_done(task, result, None)
            if broken:
                for future, task in list(running.items()):  # they died with the pool
                    running.pop(future)
                    failed(task, DIED, True)
                pool.shutdown(wait=False, cancel_futures=True)
                pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet_worker)
    except BaseException:
        # Ctrl-C (or a failing on_done): stop at once; what finished is already kept
        pool.shutdown(wait=False, cancel_futures=True)
        for child in multiprocessing.active_children():
            child.terminate()
        raise
    pool.shutdown()


def _methods() -> list[str]:
    return multiprocessing.get_all_start_methods()


def run_dask(
    tasks: Sequence[Job],
    address: str,
    on_done: OnDone,
    task_fn: TaskFn = run_task,
    workers: int = 2,
) -> None:
    """Run the tasks on a Dask distributed cluster.

    Args:
        tasks: The tasks.
        address: The scheduler (``tcp://host:8786``), or ``local`` for a
            ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1.
        on_done: Told about every task as it ends.
        task_fn: What runs a task (importable on the workers).
        workers: Workers of a ``local`` cluster.

    Raises:
        PoolError: No scheduler answered at ``address`` within ``CONNECT_TIMEOUT``.
    """
    import logging

    import dask
    from distributed import Client, LocalCluster, as_completed
    from distributed.scheduler import KilledWorker

    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # its own errors are ours

    cluster = None
    # a task whose worker dies is tried once more (a remote cluster's scheduler keeps
    # its own allowed-failures setting)
    with dask.config.set({"distributed.scheduler.allowed-failures": ATTEMPTS - 1}):
        if address == "local":
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.CRITICAL,
            )
            target: Any = cluster
        else:
            target = address
        try:
            client = Client(target, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise PoolError(
                f"--dask {address}: no Dask scheduler answered within {CONNECT_TIMEOUT:g} s "
                f"({exc}); start one with `dask scheduler` and workers with "
                f"`dask worker {address}`, or drop --dask to run on this machine"
            ) from None
        try:
            client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
        except (OSError, TimeoutError):
            client.close()
            if cluster is not None:
                cluster.close()
            raise PoolError(
                f"--dask {address}: the scheduler answered but has no workers after "
                f"{WORKERS_TIMEOUT:g} s; start some with `dask worker {address}`"
            ) from None
    futures: dict[Any, Job] = {}
    try:
        for task in tasks:
            future = client.submit(task_fn, task, key=f"sweep-{task.id}", pure=False, retries=1)
            futures[future] = task
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except KilledWorker:  # its message names a worker's address: not repeatable
                on_done(task, None, DIED)
            except Exception as exc:  # the task failed twice
                on_done(task, None, _why(exc))
            else:
                on_done(task, result, None)
    finally:
        client.cancel(list(futures))
        client.close()
        if cluster is not None:
            cluster.close()
