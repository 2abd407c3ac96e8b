"""Headless Chromium for the web UI tests: Debian's `chromium`, driven by Playwright for Python.

Playwright's own browser download cannot work here (only PyPI, Debian's packages and npm are
reachable), so it launches the system's Chromium (`apt-get install chromium`, which .ci/run does)
as its executable; Playwright's driver speaks the DevTools protocol, which that build has too.
One browser per test session: a launch costs about a second, a new context (a fresh profile with
its own viewport and colour scheme) a few milliseconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tools import require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request

REPO = Path(__file__).resolve().parents[1]
# Where screenshots go: $TEST_ARTIFACTS, else .artifacts/ at the repository's top (git-ignored).
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS") or REPO / ".artifacts")

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


@contextmanager
def launch() -> Iterator[Browser]:
    """Start headless Chromium; skip (fail in CI) when chromium or playwright is missing."""
    executable = require("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed (pip install -r requirements-test.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            # Chromium refuses to start its sandbox as root ("Running as root without
            # --no-sandbox is not supported"), and CI runs as root: there, and only there,
            # Playwright passes --no-sandbox. The pages it opens are the add-on's own.
            chromium_sandbox=os.geteuid() != 0,
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watched:
    """What went wrong while a page was open: console errors, uncaught exceptions, requests
    that failed below HTTP (refused, aborted, blocked), and main-frame navigations."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.failed_requests]


def watch(page: Page) -> Watched:
    """Start recording a page's errors and navigations."""
    watched = Watched()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(f"console error: {message.text} ({message.location})")

    def failed(request: Request) -> None:
        watched.failed_requests.append(f"request failed: {request.url}: {request.failure}")

    page.on("console", console)
    page.on("pageerror", lambda error: watched.page_errors.append(f"page error: {error}"))
    page.on("requestfailed", failed)
    page.on(
        "framenavigated",
        lambda frame: watched.navigations.append(frame.url) if frame == page.main_frame else None,
    )
    return watched


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ARTIFACTS/webui/<name>.png."""
    path = ARTIFACTS / "webui" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


# The WCAG 2.2 contrast ratio of every visible text against what is behind it, computed in the
# page: each element with text of its own, its colour and the first opaque-enough background up
# its ancestors (partly transparent ones blended over what is under them). Large text (24 px,
# or 18.66 px bold) needs 3:1, other text 4.5:1 (success criterion 1.4.3).
CONTRAST_SCRIPT = """
() => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const canvas = matchMedia("(prefers-color-scheme: dark)").matches
    && getComputedStyle(document.documentElement).colorScheme.includes("dark")
    ? {r: 18, g: 18, b: 18, a: 1} : {r: 255, g: 255, b: 255, a: 1};
  const background = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const color = parse(getComputedStyle(node).backgroundColor);
      if (color && color.a > 0) layers.push(color);
      if (color && color.a >= 1) break;
    }
    let result = canvas;
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const channel = (c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const results = [];
  for (const element of document.body.querySelectorAll("*")) {
    const own = [...element.childNodes].some(
      (n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!own || !element.getClientRects().length) continue;
    const style = getComputedStyle(element);
    if (style.visibility !== "visible" || Number(style.opacity) === 0) continue;
    const back = background(element);
    const text = over(parse(style.color), back);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    results.push({
      text: element.textContent.trim().slice(0, 40),
      ratio: ratio(text, back),
      needed: large ? 3 : 4.5,
      textLuminance: luminance(text),
      backgroundLuminance: luminance(back),
    });
  }
  return {
    page: luminance(background(document.body)),
    texts: results,
  };
}
"""
