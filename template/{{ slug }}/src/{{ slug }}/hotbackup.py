"""Hot backups: the live database, held still while the Supervisor archives it.

The Supervisor backs up /data file by file: while the add-on runs it first runs `backup-pre` in
the container, then archives, then runs `backup-post` (in a `finally`); a stopped add-on it
archives without running either (supervisor/apps/app.py `backup`, `begin_backup`). A backup taken
at any of those moments must restore every row committed before it began, so the live database
files (database.sqlite3 and its WAL) are in the backup, and:

- Stopped, cleanly or not: nothing writes the files. After a clean stop the WAL is checkpointed;
  after a SIGKILL, an OOM kill or a power cut the main file and the WAL are as SQLite left them,
  which SQLite opens like after any crash: every committed transaction is there.
- Running: backup-pre asks the add-on to save what it holds in memory and to hold the database
  (Database.hold: a read transaction that stops checkpoints until backup-post, so the main file
  is not written and the WAL only grows). The archive then holds the main file and a prefix of
  the WAL: again what a crash would leave. Writes go on meanwhile; their rows are in the backup
  when they committed before the Supervisor read the WAL.
- The -shm file is only an index that SQLite rebuilds; config.yaml leaves it out.

Why not a snapshot (a copy of the database in backup-pre, the live files excluded): it is only as
new as the last time someone wrote it, and a stopped add-on gets no hook, so after a crash every
backup held a copy from the last start; refreshing it at a stop made stops slow enough to be
killed; and it doubled the space a database takes in /data and in every backup.

Both hooks reach the add-on the same way (ask): they write a request file into the add-on's
run-time folder, wake the add-on with a byte on its FIFO (WAKE_FIFO; no signal, so no process id
is ever trusted), and wait for its answer. No reader on the FIFO and a free instance lock
(locks.py, taken before the add-on opens anything) mean no add-on writes the files. If the add-on
does not answer within ANSWER_TIMEOUT, backup-pre fails: the Supervisor then leaves the add-on out
of this backup rather than archive files that may be rewritten while it reads them.

A backup can also begin while the container starts, before the add-on has taken its lock (the
Supervisor's start waits only for the container). So backup-pre first leaves a mark that a backup
is in progress (PENDING_FILE), and an add-on that finds the mark when it starts waits for
backup-post to remove it before it opens anything. A hold, or a mark, that backup-post never ends
(a Supervisor that died mid-backup) ends after HOLD_LIMIT.
"""

import logging
import os
import re
import signal
import stat
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from . import jsonfile, locks, paths
from .atomicfile import write_atomic
from .database import Database
from .errors import AddonError

LOG = logging.getLogger(__name__)

WAKE_SIGNAL = signal.SIGUSR1  # what the main loop takes a byte on the FIFO (or a SIGUSR1) for
HOLD = "hold"  # backup-pre's request: save, then keep the database files still
RELEASE = "release"  # backup-post's request: the archive is written
# Seconds a hook waits for the add-on's answer. Start-up answers only once the stores are open
# (migrations first), and the Supervisor waits for a hook without a timeout of its own, bounded
# only by its Docker client's 900 s (home-assistant/supervisor 090ef31:
# supervisor/docker/manager.py `ClientTimeout(900)`).
ANSWER_TIMEOUT = 120.0
# Seconds a hold (or the mark of a backup in progress) lasts without backup-post. Ending it while
# the Supervisor still archives would let a checkpoint rewrite the database file under it, and
# nothing bounds how long that takes (a slow disk, a network share, a Raspberry Pi compressing
# and encrypting): so only a backup-post that never comes ends here, after a day.
HOLD_LIMIT = 24 * 3600.0
POLL_SECONDS = 0.05
PENDING_POLL = 1.0  # seconds between two looks at the mark, while a start waits for a backup
REQUEST_BYTES = 16  # a request file holds its action
ANSWER_BYTES = 4096  # an answer holds "held", "released" or "failed: <one line>"
TOKEN = re.compile(r"[0-9]{1,10}-[0-9]{1,24}")  # "<pid of the hook>-<its clock>"


class BackupError(AddonError):
    """A hook could not reach the add-on or the add-on could not do what it asked."""


# The hooks' side: backup-pre and backup-post, each in its own process.


def pre() -> str:
    """backup-pre: mark a backup in progress, then have a running add-on save and hold.

    The mark comes first: an add-on that takes its lock after this looks finds it and waits.
    """
    paths.make_private_folder(paths.RUN_DIR)
    write_atomic(paths.BACKUP_PENDING_FILE, "backup-pre\n")
    try:
        return ask(HOLD)
    except BaseException:
        # The Supervisor runs no backup-post after a failed backup-pre (it leaves the add-on
        # out of the backup), so nothing else would remove the mark.
        paths.BACKUP_PENDING_FILE.unlink(missing_ok=True)
        raise


def post() -> str:
    """backup-post: end the mark, then have a running add-on release its database."""
    paths.BACKUP_PENDING_FILE.unlink(missing_ok=True)
    return ask(RELEASE)


def ask(action: str) -> str:
    """Have the running add-on do `action`; return what it answered, or why nothing was needed.

    Each request is a file of its own (<token>.request, answered in <token>.answer), so two
    hooks at once each get their answer. Raises BackupError when the add-on does not answer
    within ANSWER_TIMEOUT or cannot do it.
    """
    token = f"{os.getpid()}-{time.monotonic_ns()}"
    folder = paths.make_private_folder(paths.BACKUP_REQUESTS_DIR)
    request, answer_file = folder / f"{token}.request", folder / f"{token}.answer"
    write_atomic(request, f"{action}\n")
    try:
        deadline = time.monotonic() + ANSWER_TIMEOUT
        woken = False
        while time.monotonic() < deadline:
            woken = woken or _wake()
            if woken and (answer := _read_answer(answer_file)) is not None:
                if answer.startswith("failed"):
                    raise BackupError(f"the add-on could not {action} its database: {answer}")
                return answer
            if not locks.instance_is_running():
                return "the add-on is not running, so nothing writes its files"
            time.sleep(POLL_SECONDS)  # starting (its lock taken, not listening yet), or busy
    finally:
        for leftover in (request, answer_file):
            leftover.unlink(missing_ok=True)
    msg = f"the add-on did not answer the {action} request in {ANSWER_TIMEOUT:.0f} s"
    raise BackupError(msg)


def _wake() -> bool:
    """Write a byte to the add-on's FIFO; False when no add-on listens on it."""
    flags = os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        descriptor = os.open(paths.BACKUP_WAKE_FIFO, flags)
    except OSError:  # missing, a link, or ENXIO: a FIFO that nobody reads
        return False
    try:
        if not stat.S_ISFIFO(os.fstat(descriptor).st_mode):
            return False
        with suppress(BlockingIOError):  # full: the add-on has wake-ups to read already
            os.write(descriptor, b"\0")
        return True
    finally:
        os.close(descriptor)


def _read_answer(answer_file: Path) -> str | None:
    """The add-on's answer, once it is there (read like every file the add-on reads: bounded, a
    regular file only, never through a link or waiting on a FIFO)."""
    try:
        answer = jsonfile.read_bytes(answer_file, ANSWER_BYTES)
    except FileNotFoundError:
        return None
    except jsonfile.JsonFileError as error:
        raise BackupError(str(error)) from None
    return answer.decode("utf-8", "replace").strip()


# The running add-on's side.


def listen() -> int:
    """Open the FIFO the hooks wake the add-on through; return the descriptor to watch.

    The add-on also keeps a write end open, so the read end never reports an end of file (which
    would wake the loop again and again) when a hook has written and closed.
    """
    fifo = paths.BACKUP_WAKE_FIFO
    paths.make_private_folder(fifo.parent)
    with suppress(FileNotFoundError):
        if not stat.S_ISFIFO(os.lstat(fifo).st_mode):
            fifo.unlink()  # not ours: the run-time folder is the add-on's alone
    with suppress(FileExistsError):
        os.mkfifo(fifo, 0o600)
    read_end = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    _kept.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC))
    return read_end


_kept: list[int] = []  # the write end listen() keeps open for as long as the process runs


def wait_while_backing_up(sleep: Callable[[float], None], stopping: Callable[[], bool]) -> bool:
    """Before the add-on opens anything: wait while a backup of its files is in progress.

    `sleep` sleeps until a signal or a hook wakes it; returns False when a stop came first.
    """
    waited = False
    while (age := _pending_age()) is not None:
        if age > HOLD_LIMIT:
            LOG.warning("Removed %s: a backup-pre left it %.0f h ago, and no backup-post came",
                        paths.BACKUP_PENDING_FILE, age / 3600)  # fmt: skip
            paths.BACKUP_PENDING_FILE.unlink(missing_ok=True)
            break
        if not waited:
            LOG.warning("A backup of the add-on's files is in progress: starting once it ends")
            waited = True
        sleep(PENDING_POLL)
        if stopping():
            return False
    if waited:
        LOG.info("The backup has ended: starting")
    return True


def _pending_age() -> float | None:
    """Seconds since backup-pre marked a backup in progress; None when none is."""
    try:
        return time.time() - paths.BACKUP_PENDING_FILE.stat().st_mtime
    except FileNotFoundError:
        return None


class Responder:
    """Answers the hooks' requests in the running add-on: save and hold, then release.

    The Supervisor backs an add-on up once at a time (its `app_backup` job rejects a second
    one), so backup-post simply releases: a hold whose backup-pre gave up waiting is not left
    to outlive the next backup.
    """

    def __init__(self, database: Database, save: Callable[[], None]) -> None:
        self.database = database
        self.save = save

    def handle(self) -> None:
        """Answer every request waiting in BACKUP_REQUESTS_DIR; call when woken."""
        try:
            requests = sorted(paths.BACKUP_REQUESTS_DIR.glob("*.request"))
        except OSError as error:
            LOG.warning("Cannot read backup requests: %s", error)
            return
        for request in requests:
            action = _read_request(request)
            if action is not None:
                outcome = self._do(action)
                write_atomic(request.with_suffix(".answer"), f"{outcome}\n")

    def _do(self, action: str) -> str:
        """Hold or release; the answer for the hook."""
        try:
            if action == HOLD:
                self.save()
                self.database.hold()
                outcome = "held"
            else:
                self.database.release()
                outcome = "released"
        except (OSError, AddonError) as error:
            LOG.error("Could not %s the database for a backup: %s", action, error)
            return f"failed: {error}"
        LOG.info("Backup %s request: %s", action, outcome)
        return outcome

    def release_if_overdue(self) -> None:
        """End a hold that backup-post never ended (see HOLD_LIMIT)."""
        held = self.database.held_for()
        if held is not None and held > HOLD_LIMIT:
            LOG.warning("No backup-post %.0f h after backup-pre: released the database",
                        held / 3600)  # fmt: skip
            self.database.release()


def _read_request(request: Path) -> str | None:
    """The action a request file asks for; None when it is not one. The file is removed: it is
    answered once, so a stray signal finds nothing to do."""
    try:
        return _action_in(request)
    except FileNotFoundError:
        return None  # its hook gave up and removed it
    except (OSError, ValueError, jsonfile.JsonFileError) as error:
        LOG.warning("Ignored the backup request %s: %s", request, error)
        return None
    finally:
        with suppress(OSError):
            request.unlink()


def _action_in(request: Path) -> str:
    """The action in a request file; raises ValueError or JsonFileError when it is not one."""
    if not TOKEN.fullmatch(request.stem):
        raise ValueError("not a name the hooks give")
    action = jsonfile.read_bytes(request, REQUEST_BYTES).decode("ascii").strip()
    if action not in (HOLD, RELEASE):
        raise ValueError(f"it asks for {action[:20]!r}")
    return action
