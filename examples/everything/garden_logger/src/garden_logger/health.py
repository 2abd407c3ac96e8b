"""The words of the storage report (`doctor`): shared by doctor.py and the stores' own checks."""

from enum import StrEnum


class Level(StrEnum):
    """How a check went; each line of the report starts with it."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


Finding = tuple[Level, str]  # one line of the report: its level and what it says
