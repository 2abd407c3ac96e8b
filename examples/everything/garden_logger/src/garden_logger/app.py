"""The add-on's life: start-up in a safe order, the author's work each minute, a clean stop.

Order matters for the data: the data is migrated first, and only then are the stores opened. On
SIGTERM (the Supervisor stopping the add-on) everything in memory is written and the stores are
closed well within the stop timeout.

The add-on's own work is not here but in workload.py, the module the template writes once and the
author owns (updates never change it): its start() once the stores are open, its beat() at each
heartbeat, its stop() before the stores are closed. The stores are the rows of the template's
persistence table; each has flush() and close() (Store), so this module handles them all alike.
The web UI (webui.py) serves its status page in threads of its own, from just after the stores open
until just before they close.
"""

import logging
import os
import select
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol

from . import diskspace, hotbackup, locks, logsetup, migrations, paths, userconfig, webui, workload
from .atomicfile import remove_stale_temp_files, write_atomic
from .database import Database
from .errors import AddonError
from .maintenance import Maintenance
from .options import Options
from .settings import Settings
from .state import StateFile

LOG = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 60.0
# SIGUSR1 is noted, never fatal: the backup hooks send it (hotbackup.WAKE_SIGNAL).
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)
# What start-up and the work report as one line (then stop or carry on) instead of a traceback.
EXPECTED_ERRORS = (OSError, AddonError)
STARTED = time.time()  # when this process loaded the add-on: older temporary files are left-overs


class Signals:
    """What the Supervisor (SIGTERM, or SIGINT) and the backup hooks (SIGUSR1) asked for.

    The main loop sleeps in wait() between heartbeats, and a signal must end that sleep at once.
    A Python signal handler cannot be relied on for that: it runs in the main thread between two
    bytecodes, so a signal that arrives just before the loop blocks (or lands in another thread)
    is handled only when the sleep ends, a heartbeat later and past the Supervisor's stop timeout;
    and a handler that sets a threading.Event can deadlock on the lock the loop itself holds.
    signal.set_wakeup_fd has the interpreter write each signal's number to a pipe the moment the
    signal arrives, whichever thread it lands in; wait() sleeps on that pipe and reads them.
    Threads started within only_in_this_thread() never take one, so the numbers reach the pipe
    in the order the signals were sent: a flush asked for just before a stop is never read after
    it (two threads could each take one and write in either order). Start every thread there;
    signals that arrive meanwhile wait, and are noted when it ends.
    """

    def __init__(self) -> None:
        self.stop = False
        self.pending: set[int] = set()  # signals other than a stop, until take()n
        self._watched: dict[int, int] = {}  # see watch()
        self._read_end, self._write_end = os.pipe()
        os.set_blocking(self._read_end, False)
        os.set_blocking(self._write_end, False)

    def install(self) -> None:
        """Route the signals to wait(); call it from the main thread."""
        signal.set_wakeup_fd(self._write_end)
        for signum in HANDLED_SIGNALS:
            signal.signal(signum, _noted)

    @contextmanager
    def only_in_this_thread(self) -> Iterator[None]:
        """Start threads within: they inherit a signal mask that blocks the handled signals."""
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def watch(self, descriptor: int, *, as_signal: int) -> None:
        """Also wake on data to read from descriptor (a FIFO), noted as if as_signal arrived."""
        self._watched[descriptor] = as_signal

    def wait(self, timeout: float) -> None:
        """Sleep until a signal arrives or timeout seconds pass, then note what was asked for."""
        ready, _, _ = select.select([self._read_end, *self._watched], [], [], timeout)
        for descriptor in ready:
            try:
                received = os.read(descriptor, 512)
            except BlockingIOError:
                continue
            if descriptor in self._watched:
                self.pending.add(self._watched[descriptor])
                continue
            for signum in received:
                if signum in (signal.SIGTERM, signal.SIGINT):
                    if not self.stop:
                        LOG.info("Received %s: stopping", signal.Signals(signum).name)
                    self.stop = True
                else:
                    self.pending.add(signum)

    def take(self, signum: int) -> bool:
        """Tell whether signum arrived since the last take(), and forget it."""
        if signum in self.pending:
            self.pending.discard(signum)
            return True
        return False


def _noted(_signum: int, _frame: FrameType | None) -> None:
    """The Python-level handler: nothing to do, the wake-up pipe carries the signal."""


class Store(Protocol):
    """What the add-on needs of each of its persistent stores (settings, state, database)."""

    def flush(self) -> None:
        """Write what is held in memory; the store stays open."""

    def close(self) -> None:
        """Write what is held in memory and close the store: it is not used afterwards."""


class Stores:
    """The add-on's persistent stores, opened once the data is migrated.

    workload.py reaches each by its name (stores.settings); app.py flushes and closes them all.
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self.settings = Settings()
        self.database = Database.open_or_replace(durable=options.durable_commits)
        self.state = StateFile()
        self.backups = hotbackup.Responder(self.database, save=self.flush)

    def each(self) -> tuple[Store, ...]:
        """Every store, in the order they were opened."""
        return (self.settings, self.database, self.state)

    def flush(self) -> None:
        """Write what the stores hold in memory (before a backup)."""
        for store in self.each():
            store.flush()
        LOG.info("Saved what was in memory")

    def close(self) -> None:
        """Close every store, the last opened first, even when one fails; then raise the first
        error."""
        errors: list[BaseException] = []
        for store in reversed(self.each()):
            try:
                store.close()
            except BaseException as error:  # the others still get their chance to write
                errors.append(error)
        if errors:
            raise errors[0]


def start(options: Options) -> Stores:
    """Prepare /data and open the stores, in the order that keeps the data safe."""
    paths.DATA_DIR.mkdir(parents=True, exist_ok=True)
    paths.make_private_folder(paths.RUN_DIR)
    if paths.is_local():
        # The Supervisor mounts these; a local run gets empty folders instead.
        for mount in paths.MOUNTS:
            mount.path.mkdir(parents=True, exist_ok=True)
    remove_left_overs()
    version = migrations.migrate()
    for folder in paths.DATA_FOLDERS:  # also those an older version made with the umask's mode
        paths.make_private_folder(folder)
    log_storage_layout(version)
    userconfig.prepare()
    stores = Stores(options)
    workload.start(stores)
    return stores


def remove_left_overs() -> None:
    """Delete the temporary files of writes that a crash cut short, sub-folders included.

    Only in the add-on's own writable folders, those its backup holds (/data, and the add-on
    configuration folder when it is mapped read-write), and only files older than this process,
    so a write another process of the add-on has in progress (backup-pre) is left alone. Never in
    the folders shared with other add-ons: they, some made from this same template, name their
    temporary files the same way there and may be writing one right now.
    """
    for mount in paths.MOUNTS:
        if mount.writable and mount.in_backup:
            for stale in remove_stale_temp_files(mount.path, before=STARTED):
                LOG.info("Removed %s, left by an interrupted write", stale)


def run(options: Options, signals: Signals) -> int:
    """Run the add-on until a stop signal; return the exit status."""
    diskspace.set_reserve(options.min_free_mb)
    try:
        # Inside the error handling: a log file that cannot be written is one line, no traceback.
        logsetup.configure(options.log_level, to_file=options.log_to_file)
        # Held until the process ends: a second add-on on the same /data is refused, not run.
        instance = locks.hold_instance_lock()
    except locks.LockError as error:
        LOG.error("%s", error)
        return 1
    except EXPECTED_ERRORS as error:
        LOG.error("Cannot start: %s", diskspace.explain(error))
        return 1
    try:
        return run_locked(options, signals)
    finally:
        instance.release()


def run_locked(options: Options, signals: Signals) -> int:
    """run() once this process holds /data."""
    try:
        signals.watch(hotbackup.listen(), as_signal=hotbackup.WAKE_SIGNAL)  # the hooks reach it now
    except OSError as error:
        LOG.error("Cannot start: %s", diskspace.explain(error))
        return 1
    if not hotbackup.wait_while_backing_up(signals.wait, lambda: signals.stop):
        LOG.info("Stopped before starting")
        return 0
    try:
        web = webui.WebUI()  # bound before anything opens: a port in use stops the start
    except EXPECTED_ERRORS as error:
        LOG.error("Cannot start: %s", error)
        return 1
    # Every thread starts here (the stores' writers, maintenance): none may take a signal.
    with signals.only_in_this_thread():
        try:
            stores = start(options)
        except EXPECTED_ERRORS as error:
            web.stop()
            LOG.error("Cannot start: %s", diskspace.explain(error))
            return 1
        write_atomic(paths.PID_FILE, f"{os.getpid()}\n")
        maintenance = Maintenance(options.retention_days)
        maintenance.start()
        web.start()  # it serves once the stores are open
    LOG.info("Started")
    try:
        work(stores, signals)
    finally:
        # Also after an unexpected error: what is in memory still reaches the disk.
        paths.PID_FILE.unlink(missing_ok=True)
        web.stop()  # before the stores close: no request sees them closing
        maintenance.stop()
        closed = close(stores)
    if not closed:
        return 1
    LOG.info("Stopped cleanly")
    return 0


def work(stores: Stores, signals: Signals) -> None:
    """The main loop: a heartbeat a minute, backup hooks answered at once, until a stop."""
    signals.wait(0)  # what arrived during start-up
    while True:
        try:
            # A hook is answered even when the stop came in the same wake-up: it waits for that.
            if signals.take(hotbackup.WAKE_SIGNAL):
                stores.backups.handle()
            elif signals.stop:
                return
            else:
                workload.beat(stores)
            stores.backups.release_if_overdue()
        except EXPECTED_ERRORS as error:
            LOG.error("%s", error)
        if not signals.stop:
            signals.wait(HEARTBEAT_SECONDS)


def close(stores: Stores) -> bool:
    """Write everything and close the stores; False (and a log line) if that failed."""
    try:
        try:
            workload.stop(stores)
        finally:
            stores.close()
    except EXPECTED_ERRORS as error:
        LOG.error("Could not stop cleanly: %s", error)
        return False
    return True


def log_storage_layout(data_version: int) -> None:
    """Say which folders the add-on uses, how, and whether its backup holds them."""
    for mount in paths.MOUNTS:
        LOG.info(
            "Storage: %s (%s, %s, %s)",
            mount.path,
            mount.map_type,
            "read-write" if mount.writable else "read-only",
            "in the add-on's backup" if mount.in_backup else "not in the add-on's backup",
        )
    LOG.info("Data version %d, free space on /data: %d MB", data_version,
             diskspace.free_bytes(paths.DATA_DIR) // diskspace.MB)  # fmt: skip
