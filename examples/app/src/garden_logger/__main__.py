"""Command line of the add-on:

    python -m garden_logger [command]

run          start, work, stop cleanly on SIGTERM (the image's CMD)
doctor       storage report: exit 0 when healthy, 1 otherwise (the image's HEALTHCHECK, --quick)
backup-pre   have the running add-on save its state and hold its database still (run by the
             Supervisor before a hot backup, from config.yaml)
backup-post  let the database be checkpointed again (run by the Supervisor afterwards)
Exit status 2 means the options in /data/options.json are not valid or the file cannot be used.
"""

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from . import app, doctor, hotbackup, logsetup
from .errors import AddonError
from .options import OptionsError, load_options

LOG = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_OPTIONS = 2
COMMANDS = ("run", "doctor", "backup-pre", "backup-post")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return the process exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m garden_logger",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", nargs="?", default="run", choices=COMMANDS)
    parser.add_argument(
        "--quick", action="store_true", help="doctor: a quicker database check (health checks)"
    )
    arguments = parser.parse_args(argv)
    logsetup.configure("info")
    if arguments.command == "doctor":
        return doctor.run(quick=arguments.quick)
    if arguments.command == "backup-pre":
        return backup_hook(hotbackup.pre, failed=EXIT_FAILED)
    if arguments.command == "backup-post":
        # The archive is written whatever happens here: a failure only delays checkpoints, until
        # the hold expires (hotbackup.HOLD_LIMIT), so it is a warning and no error for the backup.
        return backup_hook(hotbackup.post, failed=EXIT_OK)
    signals = app.Signals()
    signals.install()
    try:
        options = load_options()
    except OptionsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_OPTIONS
    return app.run(options, signals)


def backup_hook(hook: Callable[[], str], *, failed: int) -> int:
    """Run hotbackup.pre or hotbackup.post; `failed` is the exit status when it cannot."""
    name = hook.__name__
    try:
        outcome = hook()
    except (OSError, AddonError) as error:
        print(f"{'error' if failed else 'warning'}: backup-{name}: {error}", file=sys.stderr)
        return failed
    LOG.info("backup-%s: %s", name, outcome)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
