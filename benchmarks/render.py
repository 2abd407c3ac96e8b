"""`copier copy` of the all-features add-on against copier's own floor, measured two ways.

- A one-file template: copier's fixed cost (the issue's floor).
- The same add-on with nothing left to render: the all-features output copied into a template of
  plain files (same paths, same bytes, no Jinja). Copier spends this on every file it writes, so
  it is the least any template that produces this add-on can cost; the rest is our Jinja work.

All run in this process, alternating, from plain folders (no git), with the same copier.
Run: .venv/bin/python benchmarks/render.py
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import copier

from _addon import REPO, SLUG, Questionnaire, all_features, machine, template_copy

ROUNDS = 10
TEMPLATES = ("ours", "one file", "same output")
ONE_QUESTION = "_subdirectory: t\nname:\n  type: str\n"


def one_file_template(folder: Path) -> Path:
    (folder / "t").mkdir(parents=True)
    (folder / "copier.yml").write_text(ONE_QUESTION)
    (folder / "t" / "README.md.jinja").write_text("# {{ name }}\n")
    return folder


def same_output_template(folder: Path, rendered: Path) -> Path:
    """The rendered add-on as plain files: what copier costs for this output with no Jinja."""
    folder.mkdir(parents=True)
    shutil.copytree(rendered, folder / "t", ignore=shutil.ignore_patterns(".copier-answers.yml"))
    (folder / "copier.yml").write_text(ONE_QUESTION)
    return folder


def timed_copy(template: Path, destination: Path, answers: dict[str, object]) -> float:
    start = time.perf_counter()
    copier.run_copy(str(template), destination, data=answers, defaults=True, quiet=True)
    return time.perf_counter() - start


def measure(work: Path, layout: str) -> dict[str, float]:
    """Median seconds per copy of ours and of both floors, run alternately."""
    ours = template_copy(work / "ours")
    answers: dict[str, object] = {**all_features(ours), "slug": SLUG, "layout": layout}
    templates: dict[str, tuple[Path, dict[str, object]]] = {"ours": (ours, answers)}
    templates["one file"] = (one_file_template(work / "one"), {"name": "x"})
    timed_copy(templates["ours"][0], work / "warm", answers)  # imports and caches once
    templates["same output"] = (same_output_template(work / "same", work / "warm"), {"name": "x"})
    times: dict[str, list[float]] = {name: [] for name in templates}
    for number in range(ROUNDS):
        for name, (template, data) in templates.items():
            times[name].append(timed_copy(template, work / f"{name}-{number}", data))
    files = sum(1 for path in (work / "warm").rglob("*") if path.is_file())
    return {"files": files} | {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    print(f"machine: {machine()}, copier {copier.__version__}, medians of {ROUNDS}")
    failed = False
    for layout in Questionnaire(REPO).choice_values("layout"):
        median = measure(Path(tempfile.mkdtemp(prefix=f"bench-render-{layout}-")), layout)
        timings = ", ".join(f"{name} {median[name] * 1e3:.0f} ms" for name in TEMPLATES)
        print(f"layout {layout}, {median['files']:.0f} files: {timings}")
        for floor in ("one file", "same output"):
            ratio = median["ours"] / median[floor]
            failed |= ratio > 2
            status = "ok" if ratio <= 2 else "MISSED"
            label = f"all-features copy / {floor} template"
            print(f"  {label:42} {ratio:8.2f}  target <= 2  {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
