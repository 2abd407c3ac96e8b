"""`copier copy` of the all-features add-on against a one-file template (copier's own floor).

Both run in this process, alternating, from plain folders (no git), with the same copier.
Run: .venv/bin/python benchmarks/render.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import copier

from _addon import ALL_FEATURES, SLUG, machine, template_copy

ROUNDS = 10


def one_file_template(folder: Path) -> Path:
    (folder / "t").mkdir(parents=True)
    (folder / "copier.yml").write_text("_subdirectory: t\nname:\n  type: str\n")
    (folder / "t" / "README.md.jinja").write_text("# {{ name }}\n")
    return folder


def static_template(folder: Path, files: int) -> Path:
    """As many files as the add-on, none rendered: copier's floor for a template of that size."""
    (folder / "t").mkdir(parents=True)
    (folder / "copier.yml").write_text("_subdirectory: t\nname:\n  type: str\n")
    for number in range(files):
        (folder / "t" / f"file{number}.txt").write_text("static\n" * 40)
    return folder


def timed_copy(template: Path, destination: Path, answers: dict[str, object]) -> float:
    start = time.perf_counter()
    copier.run_copy(str(template), destination, data=answers, defaults=True, quiet=True)
    return time.perf_counter() - start


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    ours = template_copy(work / "ours")
    floor = one_file_template(work / "floor")
    answers = {**ALL_FEATURES, "slug": SLUG}
    timed_copy(ours, work / "warm-ours", answers)  # imports and caches once
    timed_copy(floor, work / "warm-floor", {"name": "x"})
    files = sum(1 for path in (work / "warm-ours").rglob("*") if path.is_file())
    same_size = static_template(work / "static", files)
    our_times, floor_times, static_times = [], [], []
    for number in range(ROUNDS):
        our_times.append(timed_copy(ours, work / f"ours-{number}", answers))
        floor_times.append(timed_copy(floor, work / f"floor-{number}", {"name": "x"}))
        static_times.append(timed_copy(same_size, work / f"static-{number}", {"name": "x"}))
    ours_s, floor_s = statistics.median(our_times), statistics.median(floor_times)
    static_s = statistics.median(static_times)
    ratio = ours_s / floor_s
    print(f"machine: {machine()}, copier {copier.__version__}")
    print(f"all-features copy ({files} files) {ours_s * 1e3:.0f} ms, one-file template "
          f"{floor_s * 1e3:.0f} ms (medians of {ROUNDS})")  # fmt: skip
    print(f"{'all-features copy / copier floor':38} {ratio:12.2f}  target <= 2     "
          f"{'ok' if ratio <= 2 else 'MISSED'}")  # fmt: skip
    print(f"{'all-features / static, same file count':38} {ours_s / static_s:12.2f}  (report: "
          f"{static_s * 1e3:.0f} ms for {files} static files)")  # fmt: skip
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
