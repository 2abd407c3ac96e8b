"""Command line of the add-on:

    python -m garden_logger [command]

run          start, work, stop cleanly on SIGTERM (the image's CMD)
doctor       storage report: exit 0 when healthy, 1 otherwise (the image's HEALTHCHECK, --quick)
Exit status 2 means the options in /data/options.json are not valid or the file cannot be used.
"""

import argparse
import logging
import sys
from collections.abc import Sequence

from . import app, doctor, logsetup
from .options import OptionsError, load_options

LOG = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_OPTIONS = 2
COMMANDS = ("run", "doctor")


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
    signals = app.Signals()
    signals.install()
    try:
        options = load_options()
    except OptionsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_OPTIONS
    return app.run(options, signals)


if __name__ == "__main__":
    sys.exit(main())
