"""Where a sweep's chunks run: in this process, in local worker processes, or on a Dask cluster.

Every executor offers one operation, :meth:`imap_unordered` — apply a function to a stream of
tasks and yield results as they finish, with a bounded number in flight — so the sweep engine does
not care which one it has, and a run's numbers never depend on it (seeds are per run). Before the
first task the engine calls :meth:`limit` with the number of tasks it will give, so no more local
workers are started than there are chunks to run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import ctypes
import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

DASK_PREFIX = "dask://"
#: Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT_S = 10
PR_SET_PDEATHSIG = 1  # linux/prctl.h
#: Seconds a cancelled worker gets to exit after SIGTERM before it is killed.
WORKER_EXIT_S = 2.0
#: The most local worker processes a sweep starts (``--workers``); more would exhaust the
#: machine's process table and memory long before they sped anything up.
MAX_WORKERS = 1024


class ExecutorError(RuntimeError):
    """The executor named on the command line cannot be used, or stopped working; the message
    says why (and, for a sweep, that finished chunks are kept)."""


class InlineExecutor:
    """Runs every task in this process, one after another (``--workers 1``)."""

    name = "local"
    workers = 1

    def limit(self, tasks: int) -> None:
        pass

    def imap_unordered(self, fn: Callable, tasks: Iterable, max_in_flight: int) -> Iterator[Any]:
        for task in tasks:
            yield fn(task)

    def close(self, cancel: bool = False) -> None:
        pass


def _pool_context():
    # fork starts workers in milliseconds and shares the imported modules; spawn elsewhere.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the sweep process dies, even by ``kill -9``, and
    leave Ctrl-C to the sweep process.

    Forked workers hold copies of the pool's pipes, so they never see the parent's end close; on
    Linux the kernel's parent-death signal ends them instead.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: workers end with the queue
            pass
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    # Ctrl-C reaches the whole process group; the parent handles it and shuts the pool down. The
    # parent's own SIGTERM handler (inherited through fork) must not run here: a worker told to
    # stop just stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class ProcessExecutor:
    """A pool of ``workers`` local processes (the embedded default: no server to start)."""

    name = "local"

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: cf.ProcessPoolExecutor | None = None  # started by the first task

    def limit(self, tasks: int) -> None:
        """Start no more workers than ``tasks`` (the chunks there are to run), and at least one."""
        self.workers = max(1, min(self.workers, tasks))

    def _started(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_pool_context(),
                initializer=_die_with_parent,
                initargs=(os.getpid(),),
            )
        return self._pool

    def imap_unordered(self, fn: Callable, tasks: Iterable, max_in_flight: int) -> Iterator[Any]:
        pending: set[cf.Future] = set()
        tasks = iter(tasks)
        for task in tasks:
            pool = self._started()  # only once there is a task: a finished sweep starts no workers
            pending.add(pool.submit(fn, task))
            if len(pending) >= max_in_flight:
                break
        while pending:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                yield future.result()
                nxt = next(tasks, None)
                if nxt is not None:
                    pending.add(pool.submit(fn, nxt))

    def close(self, cancel: bool = False) -> None:
        """Wait for the pool to finish; with ``cancel``, drop queued tasks and end running ones now
        (a sweep being stopped does not wait for chunks it will not write)."""
        if self._pool is None:
            return
        if not cancel:
            self._pool.shutdown(wait=True)
            return
        workers = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(timeout=WORKER_EXIT_S)
            if worker.is_alive():  # pragma: no cover - SIGTERM is not ignored in workers
                worker.kill()


class DaskExecutor:
    """Tasks on a running Dask ``distributed`` scheduler at ``dask://HOST:PORT``.

    The workers must have fedstake installed (the same version) — they import it to run tasks.
    """

    name = "dask"

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - distributed is a dependency
            raise ExecutorError(f"Dask is not installed: {exc}") from None
        _refuse_a_closed_port(address)
        try:
            self._client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        self.address = address
        self.workers = max(
            1, sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        )

    def limit(self, tasks: int) -> None:
        pass  # the cluster's workers exist already

    def imap_unordered(self, fn: Callable, tasks: Iterable, max_in_flight: int) -> Iterator[Any]:
        """As for the other executors; ExecutorError when the scheduler is lost on the way."""
        from distributed import as_completed

        tasks = iter(tasks)
        try:
            first = [
                self._client.submit(fn, t, pure=False)
                for _, t in zip(range(max_in_flight), tasks, strict=False)
            ]
            queue = as_completed(first, loop=self._client.loop)
            for future in queue:
                result = future.result()
                future.release()
                yield result
                nxt = next(tasks, None)
                if nxt is not None:
                    queue.add(self._client.submit(fn, nxt, pure=False))
        except lost_scheduler_errors() as exc:
            raise ExecutorError(
                f"lost the Dask scheduler at {self.address} ({type(exc).__name__}: {exc}); finished "
                "chunks are kept; run the same command to resume"
            ) from None

    def close(self, cancel: bool = False) -> None:
        """Disconnect; with ``cancel`` (a sweep stopping, perhaps because the scheduler is gone)
        give up after WORKER_EXIT_S and ignore a connection that is already lost."""
        if not cancel:
            self._client.close()
            return
        with contextlib.suppress(*lost_scheduler_errors()):
            self._client.close(timeout=WORKER_EXIT_S)


def lost_scheduler_errors() -> tuple[type[BaseException], ...]:
    """What ``distributed`` raises when the scheduler goes away: its connection closes, its
    futures are cancelled, or the socket fails."""
    errors: list[type[BaseException]] = [OSError, TimeoutError, cf.CancelledError, asyncio.CancelledError]
    with contextlib.suppress(ImportError):
        from distributed.comm.core import CommClosedError

        errors.append(CommClosedError)
    with contextlib.suppress(ImportError):
        from distributed.client import FutureCancelledError

        errors.append(FutureCancelledError)
    return tuple(errors)


def _host_and_port(spec: str) -> tuple[str, int]:
    """HOST and PORT of ``dask://HOST:PORT`` (an IPv6 host in brackets, ``[::1]``); ExecutorError
    naming what is wrong when the port is missing, not a number or out of range."""
    rest = spec[len(DASK_PREFIX) :]
    host, colon, port = rest.rpartition(":")
    if rest.startswith("[") and not host.endswith("]"):  # "[::1]" with no port: the colon was inside
        host, colon = rest, ""
    if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ExecutorError(
            f"--executor {spec!r} is not allowed: expected 'dask://HOST:PORT' with a port from 1 to 65535 "
            "(an IPv6 host in brackets: dask://[::1]:8786)"
        )
    return host, int(port)


def _refuse_a_closed_port(address: str) -> None:
    """Fail at once when nothing listens at ``tcp://HOST:PORT`` (Dask itself retries a refused
    connection until its timeout: ten seconds of waiting for a typo)."""
    host, _, port = address[len("tcp://") :].rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except ConnectionRefusedError:
        raise ExecutorError(
            f"cannot reach the Dask scheduler at {address}: connection refused (is the scheduler running "
            "on that host and port?)"
        ) from None
    except OSError:
        pass  # anything else (a slow network, a name to resolve): Dask's own connection decides


def make_executor(spec: str, workers: int | None):
    """The executor for ``--executor SPEC`` (``local`` or ``dask://HOST:PORT``) and ``--workers``."""
    whole = isinstance(workers, int) and not isinstance(workers, bool)
    if workers is not None and not (whole and 1 <= workers <= MAX_WORKERS):
        raise ExecutorError(
            f"--workers {workers!r} is not allowed: expected a whole number from 1 to {MAX_WORKERS}"
        )
    if spec == "local":
        n = workers or os.cpu_count() or 1
        return InlineExecutor() if n == 1 else ProcessExecutor(min(n, MAX_WORKERS))
    if spec.startswith(DASK_PREFIX) and len(spec) > len(DASK_PREFIX):
        host, port = _host_and_port(spec)
        return DaskExecutor(f"tcp://{host}:{port}")
    raise ExecutorError(f"--executor {spec!r} is not allowed: expected 'local' or 'dask://HOST:PORT'")
