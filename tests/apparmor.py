"""AppArmor profiles read as the kernel applies them, so tests can ask what a rule allows.

A profile's path rules are globs. `apparmor_parser -p` flattens the includes (abstractions/base)
and prints the variables of the tunables; this module expands those variables, turns each glob
into a small automaton and answers two questions: does a rule allow a given path, and can two
rules match one same path (a writable rule and an executable one must never).

Glob semantics follow the parser (apparmor parser/parser_regex.c, convert_aaregex_to_pcre and
filter_slashes): `*` is any run of characters but `/`, `**` any run at all, `?` one character
but `/`, `[...]` a class, `{a,b}` alternatives; a `*` or `**` right after a `/` that ends the
pattern or a path component must match at least one character, so `/dir/**` does not match
`/dir/` while `/dir/{,**}` does; repeated slashes count as one. A variable with several values
(`@{run}` is `/run/ /var/run/`) makes one rule per value, as the parser does.
"""

from __future__ import annotations

import functools
import itertools
import re
import shlex
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Characters a path can hold, folded to the printable ASCII range plus one stand-in for all
# others: enough to decide matches and overlaps of the globs profiles use.
OTHER = "\x01"
ALPHABET = frozenset(chr(code) for code in range(0x20, 0x7F)) | {OTHER}
NOT_SLASH = ALPHABET - {"/"}

NON_FILE_RULES = {
    "abi", "capability", "change_profile", "dbus", "include", "link", "mount", "network",
    "pivot_root", "ptrace", "remount", "rlimit", "set", "signal", "umount", "unix", "userns",
}  # fmt: skip
EXEC_MODES = re.compile(r"[pcu]?i?x|[PCU]i?x")


@dataclass(frozen=True)
class Rule:
    """One file rule: its glob (variables expanded), its permissions and the line it came from."""

    glob: str
    perms: str
    owner: bool
    line: str

    @property
    def writable(self) -> bool:
        return "w" in self.perms or "a" in self.perms

    @property
    def executable(self) -> bool:
        return bool(EXEC_MODES.search(self.perms))


@dataclass
class Profile:
    """A profile's file rules and the rest of its rules (network, signal, ...) as written."""

    name: str
    rules: list[Rule] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    def allows(self, path: str, access: str) -> bool:
        """True if the rules together grant access on path (AppArmor adds up matching rules).
        `owner` rules count as met: the add-on runs as root and owns what it opens."""
        granted: set[str] = set()
        for rule in self.rules:
            if matches(rule.glob, path):
                granted |= set(rule.perms) | ({"x"} if rule.executable else set())
        return set(access) <= granted


def preprocessed(profile: Path) -> str:
    """The profile with its includes flattened and the tunables' variables, as the parser reads
    it."""
    return subprocess.run(
        ["apparmor_parser", "-p", str(profile)], capture_output=True, text=True, check=True,
        timeout=120,
    ).stdout  # fmt: skip


def variables(text: str) -> dict[str, list[str]]:
    """The `@{NAME}=values` definitions of a preprocessed profile (`+=` adds values)."""
    found: dict[str, list[str]] = {}
    for match in re.finditer(r"^\s*@\{(\w+)\}\s*(\+?=)\s*(.*)$", text, re.MULTILINE):
        name, operator, values = match.groups()
        words = [word.strip('"') for word in values.split()]
        found[name] = found.get(name, []) + words if operator == "+=" else words
    return found


def profiles(text: str, definitions: dict[str, list[str]]) -> dict[str, Profile]:
    """Every profile block of text by name, nested ones as parent//child."""
    found: dict[str, Profile] = {}
    stack: list[Profile] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#include") else ""
        if not line:
            continue
        if line.startswith("profile ") and line.endswith("{"):
            name = line.split()[1]
            full = f"{stack[-1].name}//{name}" if stack else name
            stack.append(found.setdefault(full, Profile(full)))
        elif line == "}":
            stack.pop()
        elif stack and line.endswith(","):
            _add_rule(stack[-1], line, definitions)
    return found


def _add_rule(profile: Profile, line: str, definitions: dict[str, list[str]]) -> None:
    words = shlex.split(line.rstrip(",")) if '"' in line else line.rstrip(",").split()
    owner = False
    while words and words[0] in ("audit", "deny", "owner", "file"):
        assert words[0] != "deny", f"deny rules are not modelled: {line}"
        owner |= words[0] == "owner"
        words = words[1:]
    pathlike = [bool(word) and word[0] in '/@"' for word in words[:2]]
    if len(words) < 2 or words[0].split("(")[0] in NON_FILE_RULES or not any(pathlike):
        profile.other.append(line)
        return
    glob, perms = (words[0], words[1]) if pathlike[0] else (words[1], words[0])
    for expanded in expand(glob.strip('"'), definitions):
        profile.rules.append(Rule(expanded, perms, owner, line))


def expand(glob: str, definitions: dict[str, list[str]]) -> list[str]:
    """The glob once per combination of its variables' values, repeated slashes folded."""
    match = re.search(r"@\{(\w+)\}", glob)
    if not match:
        return [re.sub("/{2,}", "/", glob)]
    values = definitions[match[1]]
    return [
        result
        for value in values
        for result in expand(glob[: match.start()] + value + glob[match.end() :], definitions)
    ]


# The automaton: states are integers; each has epsilon moves and moves on a set of characters.
@dataclass
class Automaton:
    epsilon: list[list[int]] = field(default_factory=list)
    moves: list[list[tuple[frozenset[str], int]]] = field(default_factory=list)
    start: int = 0
    accept: int = 0

    def state(self) -> int:
        self.epsilon.append([])
        self.moves.append([])
        return len(self.epsilon) - 1

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        seen = set(states)
        todo = list(seen)
        while todo:
            for target in self.epsilon[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return frozenset(seen)


@functools.cache
def automaton(glob: str) -> Automaton:
    """Compile one glob (no variables left) into an automaton over ALPHABET."""
    machine = Automaton()
    machine.start = machine.state()
    position, end = _sequence(glob, 0, machine, machine.start, top=True)
    assert position == len(glob), f"unbalanced braces in {glob!r}"
    machine.accept = end
    return machine


def _sequence(
    glob: str, position: int, machine: Automaton, state: int, *, top: bool
) -> tuple[int, int]:
    """Compile glob from position up to a `,` or `}` of the enclosing group; return where it
    stopped and the state reached."""
    previous = ""  # the last thing emitted in this sequence, as the parser's look-behind sees it
    while position < len(glob) and (top or glob[position] not in ",}"):
        char = glob[position]
        if char == "{":
            after = machine.state()
            position += 1
            while True:
                branch = machine.state()
                machine.epsilon[state].append(branch)
                position, reached = _sequence(glob, position, machine, branch, top=False)
                machine.epsilon[reached].append(after)
                closing = glob[position]
                position += 1
                if closing == "}":
                    break
            state, previous = after, "}"
            continue
        if char == "*":
            run = len(glob[position:]) - len(glob[position:].lstrip("*"))
            following = glob[position + run : position + run + 1]
            if previous == "/" and following in ("/", ""):
                state = _step(machine, state, NOT_SLASH)
            loop = machine.state()
            machine.epsilon[state].append(loop)
            machine.moves[loop].append((ALPHABET if run >= 2 else NOT_SLASH, loop))
            state, previous, position = loop, "*", position + run
            continue
        if char == "?":
            state, previous, position = _step(machine, state, NOT_SLASH), "?", position + 1
            continue
        if char == "[":
            closing = glob.index("]", position + 2)
            state = _step(machine, state, _char_class(glob[position + 1 : closing]))
            previous, position = "]", closing + 1
            continue
        if char == "\\":
            position += 1
            char = glob[position]
        state = _step(machine, state, frozenset({char if char in ALPHABET else OTHER}))
        previous, position = char, position + 1
    return position, state


def _step(machine: Automaton, state: int, characters: frozenset[str]) -> int:
    target = machine.state()
    machine.moves[state].append((characters, target))
    return target


def _char_class(body: str) -> frozenset[str]:
    negated = body.startswith("^")
    body = body[1:] if negated else body
    chosen: set[str] = set()
    index = 0
    while index < len(body):
        if index + 2 < len(body) and body[index + 1] == "-":
            chosen |= {chr(code) for code in range(ord(body[index]), ord(body[index + 2]) + 1)}
            index += 3
        else:
            chosen.add(body[index])
            index += 1
    return frozenset(ALPHABET - chosen - {"/"} if negated else chosen & ALPHABET)


def matches(glob: str, path: str) -> bool:
    """True if glob matches path, as the kernel compares them."""
    machine = automaton(glob)
    current = machine.closure([machine.start])
    for char in re.sub("/{2,}", "/", path):
        char = char if char in ALPHABET else OTHER
        current = machine.closure(
            target for state in current for chars, target in machine.moves[state] if char in chars
        )
        if not current:
            return False
    return machine.accept in current


def overlap(first: str, second: str) -> bool:
    """True if some path matches both globs."""
    a, b = automaton(first), automaton(second)
    start = (a.closure([a.start]), b.closure([b.start]))
    seen = {start}
    todo = [start]
    while todo:
        left, right = todo.pop()
        if a.accept in left and b.accept in right:
            return True
        for (chars_a, target_a), (chars_b, target_b) in itertools.product(
            _moves(a, left), _moves(b, right)
        ):
            if chars_a & chars_b:
                pair = (a.closure([target_a]), b.closure([target_b]))
                if pair not in seen:
                    seen.add(pair)
                    todo.append(pair)
    return False


def _moves(machine: Automaton, states: frozenset[int]) -> Iterator[tuple[frozenset[str], int]]:
    for state in states:
        yield from machine.moves[state]
