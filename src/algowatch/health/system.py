"""Host and process metrics with psutil, sampled in the background.

The fields are the original design's ``SystemHealthMetrics`` in base units (bytes,
ratios 0..1, seconds). A sample costs well under a millisecond except
``network_connections`` (``psutil.net_connections()`` walks every socket of the
host), which is re-sampled only every ``network_connections_interval_seconds``
(60 s by default) and reused in between.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import psutil

from algowatch.clock import Clock
from algowatch.events import format_timestamp

__all__ = ["SystemMetrics", "SystemSampler"]

_NS = 1_000_000_000


def _ratio(value: float) -> float:
    # psutil's interval CPU figures divide tick-granular CPU time (10 ms) by the wall time
    # since the previous call; over a very short interval that overshoots, so clamp.
    return min(1.0, max(0.0, value))


@dataclass(frozen=True, slots=True)
class SystemMetrics:
    """One sample of host and process metrics (base units).

    Attributes
    ----------
    cpu_usage_ratio
        Host CPU busy fraction (0..1) since the previous sample.
    cpu_count
        Logical CPUs.
    load_average_1m, load_average_5m, load_average_15m
        The kernel's load averages.
    memory_total_bytes, memory_used_bytes, memory_usage_ratio
        Physical memory (``used`` as psutil defines it; the ratio excludes caches).
    swap_usage_ratio
        Used swap fraction (0 with no swap).
    disk_path, disk_total_bytes, disk_used_bytes, disk_usage_ratio
        The file system holding ``disk_path``.
    disk_read_bytes, disk_written_bytes
        Bytes read and written by all disks since boot (``None`` when the kernel
        does not expose them, as in some containers).
    network_sent_bytes, network_received_bytes
        Bytes over all interfaces since boot.
    network_connections
        Open inet sockets of the host, sampled rarely (``None`` if not permitted).
    process_cpu_usage_ratio
        This process's CPU time over wall time since the previous sample, divided
        by the CPU count (0..1 of the whole machine).
    process_memory_bytes, process_threads, process_open_files
        Resident memory, threads and open regular files of this process.
    ts_sampled
        UNIX nanoseconds of the sample.

    .. versionadded:: 0.1.0
    """

    cpu_usage_ratio: float
    cpu_count: int
    load_average_1m: float
    load_average_5m: float
    load_average_15m: float
    memory_total_bytes: int
    memory_used_bytes: int
    memory_usage_ratio: float
    swap_usage_ratio: float
    disk_path: str
    disk_total_bytes: int
    disk_used_bytes: int
    disk_usage_ratio: float
    disk_read_bytes: int | None
    disk_written_bytes: int | None
    network_sent_bytes: int
    network_received_bytes: int
    network_connections: int | None
    process_cpu_usage_ratio: float
    process_memory_bytes: int
    process_threads: int
    process_open_files: int
    ts_sampled: int

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used by ``/health`` (``sampled_at`` in RFC 3339)."""
        document = asdict(self)
        document["sampled_at"] = format_timestamp(document.pop("ts_sampled"))
        return document


class SystemSampler:
    """Take :class:`SystemMetrics` samples; blocking, meant to run in a worker thread.

    Parameters
    ----------
    clock
        Stamps samples and paces the ``network_connections`` re-sampling.
    disk_path
        A path on the file system to report.
    network_connections_interval_seconds
        Least time between two ``psutil.net_connections()`` calls.

    Examples
    --------
    >>> from algowatch.clock import SystemClock
    >>> sample = SystemSampler(SystemClock()).sample()
    >>> sample.memory_total_bytes > sample.memory_used_bytes > 0
    True

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        clock: Clock,
        *,
        disk_path: str = "/",
        network_connections_interval_seconds: float = 60.0,
    ) -> None:
        self._clock = clock
        self.disk_path = disk_path
        self._connections_interval_ns = round(network_connections_interval_seconds * _NS)
        self._process = psutil.Process()
        self._cpu_count = psutil.cpu_count() or 1
        self._connections: int | None = None
        self._connections_at: int | None = None
        # prime the interval counters: the first cpu_percent() call returns a meaningless 0
        psutil.cpu_percent(interval=None)
        self._process.cpu_percent(interval=None)

    def _network_connections(self) -> int | None:
        now = self._clock.monotonic_ns()
        due = (
            self._connections_at is None
            or now - self._connections_at >= self._connections_interval_ns
        )
        if due:
            self._connections_at = now
            try:
                self._connections = len(psutil.net_connections(kind="inet"))
            except (psutil.AccessDenied, PermissionError):
                self._connections = None
        return self._connections

    def sample(self) -> SystemMetrics:
        """Return a fresh sample."""
        memory = psutil.virtual_memory()
        swap = psutil.swap_memory()
        disk = psutil.disk_usage(self.disk_path)
        disk_io = psutil.disk_io_counters()
        network = psutil.net_io_counters()
        load = os.getloadavg()
        with self._process.oneshot():
            process_cpu = self._process.cpu_percent(interval=None)
            rss = self._process.memory_info().rss
            threads = self._process.num_threads()
        open_files = len(self._process.open_files())
        return SystemMetrics(
            cpu_usage_ratio=_ratio(psutil.cpu_percent(interval=None) / 100.0),
            cpu_count=self._cpu_count,
            load_average_1m=load[0],
            load_average_5m=load[1],
            load_average_15m=load[2],
            memory_total_bytes=memory.total,
            memory_used_bytes=memory.used,
            memory_usage_ratio=memory.percent / 100.0,
            swap_usage_ratio=swap.percent / 100.0,
            disk_path=self.disk_path,
            disk_total_bytes=disk.total,
            disk_used_bytes=disk.used,
            disk_usage_ratio=disk.percent / 100.0,
            disk_read_bytes=None if disk_io is None else disk_io.read_bytes,
            disk_written_bytes=None if disk_io is None else disk_io.write_bytes,
            network_sent_bytes=network.bytes_sent,
            network_received_bytes=network.bytes_recv,
            network_connections=self._network_connections(),
            process_cpu_usage_ratio=_ratio(process_cpu / 100.0 / self._cpu_count),
            process_memory_bytes=rss,
            process_threads=threads,
            process_open_files=open_files,
            ts_sampled=self._clock.time_ns(),
        )
