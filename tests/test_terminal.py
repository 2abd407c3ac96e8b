"""The questionnaire fits an 80-column terminal.

Copier shows each question as "🎤 " followed by its help, and a refused answer as one line,
"Validation error for question '<name>': <message>"; the terminal cuts both at its width. These
tests measure what copier's own question objects would display, then drive a real `copier copy`
in an 80-column tmux pane, answer every question (a wrong answer first), and read the screen.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import copier
import pytest
from questionary import Choice
from wcwidth import wcswidth

from conftest import choice_values, copier_config, questions, reserved_slugs
from rendered import load_yaml
from tools import require

COLUMNS = 80
# questionary's own hints, shown after the help on the answer's line (questionary/prompts).
HINTS = {
    "checkbox": "(Use arrow keys to move, <space> to select, <a> to toggle, <i> to invert)",
    "select": "(Use arrow keys)",
}
MOUNTS = choice_values("mounts")
LONG = "x" * 300


def bad_answers() -> dict[str, list[Any]]:
    """Wrong answers for every question with a validator, the longest a user could type included."""
    return {
        "name": ["", " ", " Padded", "Padded ", "Two\nlines", "Tab\there", "Bell\x07",
                 "Line\u2028break", "x" * 65, LONG + "é"],
        "slug": ["", "Garden-Logger", "garden logger", "1st", "_x", "über", "x" * 51, LONG,
                 *sorted(reserved_slugs())],
        "description": ["", " ", "a\nb", "a\rb", "a\x00b", "\ufeff" + LONG],
        "maintainer": ["", "Ada", "Ada <ada>", "<ada@example.com>", "Ada <ada@example.com",
                       "Ada\t<ada@example.com>", LONG],
        "repository_url": ["", "http://github.com/ada/addons", "https://github.com/ada/addons.git",
                           "https://github.com/ada/addons/", "https://github.com/ada/addons.git/",
                           "https://gitlab.com/ada/addons", "https://github.com/ada",
                           "https://github.com/" + "a" * 40 + "/x",
                           "https://github.com/ada/addons/tree/main", "https://github.com/" + LONG],
        "version": ["", "1.0", "v1.0.0", "1.0.0+build.5", "01.0.0", LONG],
        "architectures": [[]],
        "persistence": [[]],
    }  # fmt: skip


def default(question: dict[str, Any]) -> Any:
    if question["type"] == "checkbox":
        return [choice.value for choice in question["choices"] if choice.checked]
    value = question.get("default")
    return value.value if isinstance(value, Choice) else value


def ask(
    template: Path, destination: Path, monkeypatch: pytest.MonkeyPatch, **script: Any
) -> dict[str, dict[str, Any]]:
    """Run `copier copy` without --defaults; a scripted user gives `script`'s answers and takes the
    other defaults. Returns the prompt of each question asked: copier's own questionary structure
    (message, choices, validate), as the terminal gets it."""
    asked: dict[str, dict[str, Any]] = {}

    def prompt(questions: list[dict[str, Any]], answers: dict[str, Any], **_: Any) -> Any:
        (question,) = questions
        if not question["when"](answers):
            return answers
        name = question["name"]
        asked[name] = question
        answer = script[name] if name in script else default(question)
        return {name: question["filter"](answer)}

    monkeypatch.setattr("copier._main.unsafe_prompt", prompt)
    copier.run_copy(str(template), destination, defaults=False, unsafe=False, quiet=True)
    return asked


def help_lines(question: dict[str, Any]) -> list[str]:
    """The question's lines as displayed, before the user's answer or the choices."""
    lines = f"{question['qmark']} {question['message']}".split("\n")
    # The last line is where the answer goes: "   " + the typed text, or questionary's hint.
    hint = HINTS.get(question["type"])
    return lines[:-1] + ([lines[-1] + " " + hint] if hint else [])


def choice_lines(question: dict[str, Any]) -> list[str]:
    """Each choice as questionary displays it at first (a disabled one is never pointed at)."""
    lines = []
    for choice in question.get("choices", []):
        if choice.disabled:
            lines.append(f"   - {choice.title} ({choice.disabled})")
        elif question["type"] == "checkbox":
            lines.append(f"   {'●' if choice.checked else '○'} {choice.title}")
        else:
            lines.append(f" » {choice.title}")
    return lines


def assert_fits(line: str) -> None:
    width = wcswidth(line)
    assert 0 <= width <= COLUMNS, f"{width} columns (or unprintable): {line!r}"


SCENARIOS = [[mount] for mount in MOUNTS] + [["share", "ssl"], MOUNTS]


@pytest.mark.parametrize("mounts", SCENARIOS, ids=["+".join(m) for m in SCENARIOS])
def test_help_and_choices_fit_and_only_chosen_mounts_can_be_writable(
    template_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mounts: list[str]
) -> None:
    asked = ask(template_snapshot, tmp_path / "out", monkeypatch, name="Garden Logger",
                mounts=mounts)  # fmt: skip
    assert set(asked) == questions()
    for question in asked.values():
        for line in help_lines(question) + choice_lines(question):
            assert_fits(line)
    writable = asked["writable_mounts"]
    disabled = {choice.value: choice.disabled for choice in writable["choices"]}
    assert disabled == {
        mount: "" if mount in mounts else f"{mount} is not mounted" for mount in MOUNTS
    }
    first_line = help_lines(writable)[0]
    if len(mounts) == 1:
        assert first_line.startswith(f"🎤 May the add-on write to {mounts[0]}? Select it")
    else:
        assert first_line.startswith(f"🎤 Which of these {len(mounts)} folders may the add-on")


def test_every_validator_message_fits_on_its_line(
    template_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = ask(template_snapshot, tmp_path / "out", monkeypatch, name="Garden Logger",
                mounts=MOUNTS)  # fmt: skip
    corpus = bad_answers()
    validated = {key for key, spec in copier_config().items() if "validator" in spec}
    assert validated == set(corpus), "every question with a validator needs wrong answers here"
    for name, values in corpus.items():
        for value in values:
            message = asked[name]["validate"](value)
            assert isinstance(message, str), f"{name}: {value!r} was accepted"
            assert message.startswith(f"Validation error for question '{name}': "), message
            assert "\n" not in message, message
            assert_fits(message)


@pytest.mark.parametrize("mount", [mount for mount in MOUNTS if mount != "share"])
def test_an_unmounted_writable_mount_is_refused_on_one_line(
    template_snapshot: Path, tmp_path: Path, mount: str
) -> None:
    data = {"name": "Garden Logger", "mounts": ["share"], "writable_mounts": [mount]}
    with pytest.raises(ValueError, match=r"^Invalid choice for 'writable_mounts': ") as error:
        copier.run_copy(str(template_snapshot), tmp_path / "out", data=data, defaults=True,
                        unsafe=False, quiet=True)  # fmt: skip
    # copier prints the error as it is: the fix first, and short.
    assert str(error.value).endswith(f": {mount} is not mounted")
    assert_fits(str(error.value))


# ---------------------------------------------------------------------------------------------
# A real terminal: tmux, 80 columns.


class Terminal:
    """A tmux server of our own (private socket and config), one 80x30 pane."""

    TIMEOUT = 60.0  # seconds for anything to appear: the CI machine is shared and loaded

    def __init__(self, tmux: str, workdir: Path) -> None:
        self.tmux = tmux
        self.socket = f"copier-tests-{os.getpid()}-{secrets.token_hex(4)}"
        self.config = workdir / "tmux.conf"
        self.config.write_text("set -g status off\nset -g remain-on-exit on\n", encoding="utf-8")
        self.status = workdir / "exit-status"
        self.socket_path: Path | None = None
        self.env = {key: value for key, value in os.environ.items() if key != "TMUX"}

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [self.tmux, "-u", "-L", self.socket, "-f", str(self.config), *args],
            env=self.env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"tmux {args[0]}: {result.stderr}"
        return result.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        """Run the command in the pane; a shell writes its exit status to a file when it ends."""
        options = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        record = '"$@"; echo "$?" > "$0.part" && mv "$0.part" "$0"'
        self.run("new-session", "-d", "-s", "copier", "-x", str(COLUMNS), "-y", "30", *options,
                 "--", "sh", "-c", record, str(self.status), *command)  # fmt: skip
        self.socket_path = Path(self.run("display-message", "-p", "#{socket_path}").strip())

    def screen(self) -> list[str]:
        return [
            line.rstrip() for line in self.run("capture-pane", "-p", "-t", "copier").split("\n")
        ]

    def wait_for(self, *lines: str) -> None:
        """Until every line is on the screen, whole, each on a line of its own."""
        deadline = time.monotonic() + self.TIMEOUT
        while True:
            screen = self.screen()
            missing = [line.rstrip() for line in lines if line.rstrip() not in screen]
            if not missing:
                return
            if time.monotonic() > deadline:
                pytest.fail(
                    f"not on the screen after {self.TIMEOUT:.0f} s: {missing}\n"
                    "--- screen ---\n" + "\n".join(screen)
                )
            time.sleep(0.1)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "copier", *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "copier", "-l", text)

    def exit_status(self) -> int:
        deadline = time.monotonic() + 2 * self.TIMEOUT
        while not self.status.exists():
            if time.monotonic() > deadline:
                pytest.fail("copier did not finish:\n" + "\n".join(self.screen()))
            time.sleep(0.2)
        return int(self.status.read_text(encoding="utf-8"))

    def kill(self) -> None:
        """Stop our server and remove its socket, which tmux leaves behind."""
        subprocess.run(
            [self.tmux, "-L", self.socket, "kill-server"], env=self.env, capture_output=True,
            timeout=30, check=False,
        )  # fmt: skip
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    terminal = Terminal(require("tmux"), tmp_path)
    try:
        yield terminal
    finally:
        terminal.kill()


ANSWERS = {
    "name": "Café Lights",
    "slug": "cafe_lights",
    "description": "Lights for the café.",
    "maintainer": "Ada Lovelace <ada@example.com>",
    "license": "Apache-2.0",
    "repository_url": "https://github.com/ada/lights",
    "version": "1.2.3",
    "architectures": ["aarch64"],
    "python_version": "3.13",
    "mounts": ["share", "ssl"],
    "writable_mounts": ["share"],
    "persistence": ["json_config", "sqlite"],
    "backup_mode": "cold",
    "web_ui": "ingress",
    "layout": "repository",
}


@pytest.mark.xdist_group("terminal")
def test_an_80_column_terminal_shows_every_question_and_message_whole(
    template_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal: Terminal
) -> None:
    # What copier will display, from its own question objects, for the same answers.
    asked = ask(template_snapshot, tmp_path / "expected", monkeypatch, **ANSWERS)
    assert set(asked) == set(ANSWERS)

    def question(name: str, *more: str) -> None:
        terminal.wait_for(*help_lines(asked[name]), *more)

    def refused(name: str, value: Any) -> None:
        terminal.wait_for(asked[name]["validate"](value))

    destination = tmp_path / "out"
    hermetic = ("COPIER_SETTINGS_PATH", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "HOME", "PATH")
    env = {key: os.environ[key] for key in hermetic if key in os.environ}
    env |= {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    terminal.start([sys.executable, "-m", "copier", "copy", str(template_snapshot),
                    str(destination)], env)  # fmt: skip

    question("name")
    terminal.keys("Enter")
    refused("name", "")
    terminal.type("Café Lights")
    terminal.keys("Enter")

    question("slug", "   cafe_lights")  # the default, made from the name
    terminal.keys("C-u")
    terminal.type("multiprocessing")  # the longest reserved name: its message has 80 columns
    terminal.keys("Enter")
    refused("slug", "multiprocessing")
    terminal.keys("C-u")
    terminal.type("cafe_lights")
    terminal.keys("Enter")

    question("description")
    terminal.keys("C-u", "Enter")
    refused("description", "")
    terminal.type("Lights for the café.")
    terminal.keys("Enter")

    question("maintainer")
    terminal.keys("C-u")
    terminal.type("Ada")
    terminal.keys("Enter")
    refused("maintainer", "Ada")
    terminal.keys("C-u")
    terminal.type("Ada Lovelace <ada@example.com>")
    terminal.keys("Enter")

    # Every license on the screen, whole, the pointer on the default (MIT).
    first, *others = [line.removeprefix(" » ") for line in choice_lines(asked["license"])]
    question("license", f" » {first}", *(f"   {title}" for title in others))
    terminal.keys("Down", "Enter")  # Apache-2.0

    question("repository_url")
    terminal.keys("C-u")
    terminal.type("https://github.com/ada/lights.git")
    terminal.keys("Enter")
    refused("repository_url", "https://github.com/ada/lights.git")
    terminal.keys("BSpace", "BSpace", "BSpace", "BSpace", "Enter")  # what the message says

    question("version")
    terminal.keys("C-u")
    terminal.type("1.0")
    terminal.keys("Enter")
    refused("version", "1.0")
    terminal.keys("C-u")
    terminal.type("1.2.3")
    terminal.keys("Enter")

    question("architectures", *choice_lines(asked["architectures"])[1:])
    terminal.keys("a", "Enter")  # both were chosen: <a> unchooses them
    refused("architectures", [])
    terminal.keys("Space", "Enter")  # aarch64

    question("python_version")
    terminal.keys("Down", "Enter")

    question("mounts")
    terminal.keys("Down", "Down", "Space", "Down", "Space", "Enter")  # share, ssl

    # Only share and ssl can be chosen: the others are shown disabled, with the reason.
    disabled = [line for line in choice_lines(asked["writable_mounts"]) if line.startswith("   -")]
    assert len(disabled) == len(MOUNTS) - 2
    question("writable_mounts", *disabled)
    # <a> chooses every choice it can; Up from share skips the disabled ones to reach ssl.
    terminal.keys("a", "Up", "Space", "Enter")

    question("persistence")
    terminal.keys("a", "a", "Enter")  # all, then none
    refused("persistence", [])
    terminal.keys("Space", "Down", "Space", "Enter")  # json_config, sqlite

    question("backup_mode")
    terminal.keys("Down", "Enter")

    question("web_ui")
    terminal.keys("Down", "Enter")

    question("layout")
    terminal.keys("Enter")

    status = terminal.exit_status()
    assert status == 0, "\n".join(terminal.screen())
    recorded = load_yaml(destination / ".copier-answers.yml")
    assert {key: recorded[key] for key in ANSWERS} == ANSWERS
    config = load_yaml(destination / "cafe_lights" / "config.yaml")
    assert config["version"] == "1.2.3"
    assert config["map"] == [
        {"type": "share", "read_only": False},
        {"type": "ssl", "read_only": True},
    ]
    license_text = (destination / "LICENSE").read_text(encoding="utf-8")
    assert license_text.split()[:2] == ["Apache", "License"]
