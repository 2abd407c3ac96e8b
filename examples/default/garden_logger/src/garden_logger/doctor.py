"""The storage report of the `doctor` command, also the image's HEALTHCHECK.

It prints the findings of one status.collect(), the collection the web UI shows too: that every
folder is there with the access config.yaml gives it (and, where it is writable, that its disk is
neither full nor out of inodes), that the options are valid and enough disk space is free, that
the JSON files parse, that the data version is one this add-on starts with, and each store's own
check (a database passes SQLite's integrity check at the schema version this add-on knows). Each
line starts with OK, WARN or FAIL; the exit status is 0 when nothing failed.
"""

from dataclasses import dataclass

from . import status
from .health import Finding


@dataclass(frozen=True)
class Report:
    """The lines of the report and how many checks failed."""

    lines: list[str]
    failures: int


def run(*, quick: bool = False) -> int:
    """Print the report; return 0 when healthy, 1 otherwise."""
    report = check(quick=quick)
    print("\n".join(report.lines))
    print("healthy" if not report.failures else f"unhealthy: {report.failures} problem(s)")
    return 0 if not report.failures else 1


def check(*, quick: bool = False) -> Report:
    """The report of one look at the storage (status.collect)."""
    current = status.collect(quick=quick)
    return Report([line(finding) for finding in current.checks], current.failures)


def line(finding: Finding) -> str:
    """A finding as a line of the report: its level, padded, then what it says."""
    level, text = finding
    return f"{level:<4} {text}"
