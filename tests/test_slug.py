"""The default slug: any name the `name` question accepts gives a valid, importable package name.

The transliteration table of includes/slug.jinja is checked here against Python's own Unicode
decomposition (NFKD), block by block, so that no entry is a guess.
"""

# ruff: noqa: RUF001, RUF003  (lookalike letters are the point of this file)
from __future__ import annotations

import keyword
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from conftest import copy, include, reserved_slugs
from rendered import load_yaml

pytestmark = pytest.mark.xdist_group("slug")

# The Unicode blocks the table covers.
BLOCKS = {
    "Latin-1 Supplement": (0x00A0, 0x00FF),
    "Latin Extended-A": (0x0100, 0x017F),
    "Latin Extended-B": (0x0180, 0x024F),
    "Latin Extended Additional": (0x1E00, 0x1EFF),
}
# Letters without a decomposition whose ASCII spelling the Unicode name does not give away
# ("LATIN SMALL LETTER D WITH STROKE" does: d). Their lowercase forms are looked up.
SPELLED = {
    "µ": "u", "æ": "ae", "ð": "d", "þ": "th", "ß": "ss", "ĸ": "k", "ŋ": "ng", "œ": "oe",
    "ǣ": "ae", "ǽ": "ae", "ɣ": "g", "ɩ": "i", "ʊ": "u", "ə": "e", "ƕ": "hv", "ƣ": "oi",
    "ʃ": "sh", "ʒ": "z", "ƺ": "z", "ǯ": "z", "ƿ": "w", "ȝ": "y", "ȣ": "ou", "ȸ": "db",
    "ȹ": "qp", "ẟ": "d", "ỻ": "ll", "ỽ": "v",
}  # fmt: skip
# Letters with no ASCII reading, left out on purpose: tone letters, clicks, glottal stops and a
# few phonetic signs. Like any other symbol, they separate words.
UNSPELLED = set("ƄƅƧƨƼƽƍƛƪƸƹƻƾǀǁǂǃɁɂ")
# The first single-letter word after LETTER in a Unicode name: the base letter.
BASE_LETTER = re.compile(r"\bLETTER (?:[A-Z]+ )*?([A-Z])\b")


def slug_module() -> Any:
    """includes/slug.jinja as copier loads it: same filters, same _envops."""
    return include("slug.jinja")


def words(text: str) -> str:
    """What the slug keeps of a text: a-z and 0-9, anything else a separator."""
    return re.sub(r"[^a-z0-9]", "_", text.lower())


def characters() -> list[str]:
    return [
        chr(code)
        for first, last in BLOCKS.values()
        for code in range(first, last + 1)
        if unicodedata.category(chr(code)) != "Cn"
    ]


def test_table_entries_are_unique_letter_pairs() -> None:
    pairs = slug_module().TRANSLITERATION.split()
    for pair in pairs:
        assert re.fullmatch(r"[^\x00-\x7f]:[a-z0-9]+", pair), pair
    keys = [pair[0] for pair in pairs]
    duplicates = {key for key in keys if keys.count(key) > 1}
    assert not duplicates
    # Only lowercase letters: the macro lowercases first, so a capital would never be looked up.
    assert all(key == key.lower() for key in keys), [key for key in keys if key != key.lower()]


def expected_transliteration(char: str) -> tuple[str, str]:
    """How a character must come out, and why: from its decomposition, its spelling (SPELLED or
    the base letter of its Unicode name), or as a word separator."""
    decomposed = "".join(
        part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part)
    )
    if decomposed.isascii():
        return "decomposed", words(decomposed)  # é → e, ǅ → dz, ² → 2, no-break space → _
    if not unicodedata.category(char).startswith("L") or char in UNSPELLED:
        return "separator", "_"  # ×, ¼, clicks
    lower = char.lower()
    if lower in SPELLED:
        return "spelled", SPELLED[lower]
    base = BASE_LETTER.search(unicodedata.name(lower))
    assert base, f"{char!r} {unicodedata.name(lower)}: add its spelling to SPELLED"
    return "base letter", base.group(1).lower()


def test_transliteration_follows_unicode_decomposition() -> None:
    transliterate = slug_module().transliterate
    wrong = []
    kinds: dict[str, int] = {}
    for char in characters():
        got = words(str(transliterate(char)))
        kind, expected = expected_transliteration(char)
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "base letter":
            # ł → l, ɓ → b: an ASCII word that starts with the letter the name gives
            ok = re.fullmatch(r"[a-z]+", got) is not None and got.startswith(expected)
        else:
            ok = got == expected
        if not ok:
            wrong.append(f"U+{ord(char):04X} {char} ({unicodedata.name(char)}): {got!r}, "
                         f"{kind} says {expected!r}")  # fmt: skip
    assert not wrong, "\n".join(wrong)
    assert kinds["decomposed"] > 500 and kinds["spelled"] + kinds["base letter"] > 100, kinds


@pytest.mark.parametrize(
    ("letter", "ascii"),
    [("ß", "ss"), ("ẞ", "ss"), ("æ", "ae"), ("Æ", "ae"), ("œ", "oe"), ("Œ", "oe"), ("ø", "o"),
     ("Ø", "o"), ("đ", "d"), ("Đ", "d"), ("ł", "l"), ("Ł", "l"), ("þ", "th"), ("Þ", "th"),
     ("ð", "d"), ("Ð", "d"), ("ı", "i"), ("İ", "i"), ("ŋ", "ng"), ("ħ", "h"), ("ŧ", "t"),
     ("ĳ", "ij"), ("ǆ", "dz"), ("ơ", "o"), ("ư", "u"), ("ệ", "e"), ("ỹ", "y"), ("ǿ", "o")],
)  # fmt: skip
def test_letters_without_a_plain_decomposition(letter: str, ascii: str) -> None:
    assert slug_module().transliterate(letter) == ascii


def check_slug(slug: str, project: Path) -> None:
    """A valid, non-reserved slug whose rendered package imports as itself."""
    assert re.fullmatch(r"[a-z][a-z0-9_]*", slug), slug
    assert len(slug) <= 50, slug
    assert slug not in reserved_slugs(), slug
    # Independent of the template's list: this interpreter's keywords and standard library.
    assert slug.isidentifier(), slug
    assert not keyword.iskeyword(slug) and not keyword.issoftkeyword(slug), slug
    assert slug not in sys.stdlib_module_names, slug
    src = project / slug / "src"
    result = subprocess.run(
        [sys.executable, "-s", "-c",
         "import importlib, sys; print(importlib.import_module(sys.argv[1]).__file__)", slug],
        cwd=src, env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == src / slug / "__init__.py", result.stdout


RESERVED_WORDS = st.sampled_from(sorted(reserved_slugs())).flatmap(
    lambda word: st.sampled_from([word, word.upper(), word.title()])
)
PIECES = st.sampled_from([
    "Café", "Ünïcode", "Straße", "ẞ", "Æther", "Łódź", "Đà Nẵng", "İstanbul", "Cafe\u0301",
    "3D", "123", "0", "Import", "JSON", "Calendar", "Email", "Secrets", "class", "日本語",
    "東京", "🎉", "👩\u200d👩\u200d👧", "-", " ", "_", "!", "ßß", "Ǆ", "ǀ", "µ", "½",
])  # fmt: skip
LATIN = st.characters(min_codepoint=0xA0, max_codepoint=0x24F)
VIETNAMESE = st.characters(min_codepoint=0x1E00, max_codepoint=0x1EFF)
WORD = st.one_of(
    PIECES, RESERVED_WORDS, st.text(max_size=4), st.text(LATIN, max_size=6),
    st.text(VIETNAMESE, max_size=4),
)  # fmt: skip
NAMES = st.one_of(
    RESERVED_WORDS,
    st.lists(WORD, min_size=1, max_size=10).map("".join),
    st.lists(WORD, min_size=1, max_size=10).map(" ".join),
    st.text(st.characters(codec="utf-8"), min_size=40, max_size=70),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=NAMES)
@example(name="Import").via("issue 10")
@example(name="123").via("issue 10")
@example(name="Ünïcode Sensor").via("issue 10")
@example(name="ß" * 40).via("transliteration makes it longer than 50")
def test_every_accepted_name_gives_an_importable_slug(
    template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    destination = tmp_path_factory.mktemp("slug")
    try:
        copy(template_snapshot, destination, name=name)
    except ValueError as error:
        # Only the name's own validator may refuse: never a default derived from it.
        assert str(error).startswith("Validation error for question 'name': "), str(error)
        event("refused by the name validator")
        return
    answers = load_yaml(destination / ".copier-answers.yml")
    assert answers["name"] == name
    check_slug(answers["slug"], destination)
    event("rendered")
