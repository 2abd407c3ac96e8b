"""Licenses: this repository's own, and the add-on's from the `license` question.

The texts are compared with copies that do not come from this repository: Apache-2.0 and GPL-3.0
with Debian's (base-files, /usr/share/common-licenses), MIT with copier's own LICENSE (SPDX's MIT
text, installed from requirements-test.txt). A changed word fails.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO, Renderer, copier_config, copy, include

ANSWERS = {"name": "Garden Logger", "maintainer": "Ada Lovelace <ada@example.com>"}
COMMON_LICENSES = Path("/usr/share/common-licenses")
DEBIAN_NAMES = {"Apache-2.0": "Apache-2.0", "GPL-3.0-or-later": "GPL-3"}


def debian_text(license_id: str) -> str:
    """Debian's copy of a license. base-files is essential on Debian, so CI always has it."""
    path = COMMON_LICENSES / DEBIAN_NAMES[license_id]
    if not path.is_file():
        message = f"{path} is missing (Debian's base-files package)"
        if not os.environ.get("CI"):
            pytest.skip(f"SKIPPED CHECK: {message}")
        pytest.fail(message)
    return path.read_text(encoding="utf-8")


def mit_text() -> str:
    """SPDX's MIT License as copier's distribution ships it."""
    text = importlib.metadata.distribution("copier").read_text("licenses/LICENSE")
    assert text and text.startswith("MIT License\n"), "copier's LICENSE is not where it was"
    return text


def without_copyright(text: str) -> tuple[str, str]:
    """The MIT text's copyright line, and the rest with whitespace normalised."""
    lines = text.splitlines()
    (copyright_line,) = [line for line in lines if line.startswith("Copyright (c) ")]
    lines.remove(copyright_line)
    return copyright_line, " ".join(" ".join(lines).split())


def license_file(render: Renderer, license_id: str, layout: str = "repository") -> Path:
    root = render(ANSWERS | {"license": license_id, "layout": layout})
    return root / "LICENSE"


def test_this_repository_is_mit_licensed() -> None:
    copyright_line, body = without_copyright((REPO / "LICENSE").read_text(encoding="utf-8"))
    assert body == without_copyright(mit_text())[1]
    assert copyright_line == "Copyright (c) The Home Assistant add-on storage template authors"


@pytest.mark.parametrize("layout", ["repository", "app"])
def test_mit_names_the_maintainer_without_a_year(render: Renderer, layout: str) -> None:
    """No year: a computed one would change with every `copier update`."""
    text = license_file(render, "MIT", layout).read_text(encoding="utf-8")
    copyright_line, body = without_copyright(text)
    assert body == without_copyright(mit_text())[1]
    assert copyright_line == "Copyright (c) Ada Lovelace"
    assert text.startswith("MIT License\n\nCopyright (c) Ada Lovelace\n\nPermission is hereby")
    assert text.endswith("SOFTWARE.\n")


@pytest.mark.parametrize("license_id", ["Apache-2.0", "GPL-3.0-or-later"])
@pytest.mark.parametrize("layout", ["repository", "app"])
def test_texts_are_debians_verbatim(render: Renderer, license_id: str, layout: str) -> None:
    text = license_file(render, license_id, layout).read_text(encoding="utf-8")
    assert text == debian_text(license_id)


def test_license_choices_are_the_table() -> None:
    """copier.yml's choices are the rows of includes/licenses.jinja, and `none`."""
    question = copier_config()["license"]
    table = include("licenses.jinja").LICENSES
    assert list(question["choices"].values()) == [*table, "none"]
    assert question["default"] == "MIT"
    for row in table.values():
        assert (REPO / row["text"]).is_file(), row["text"]


def test_both_layouts_render_the_same_license() -> None:
    """Layout app renders template/{{ slug }}/ alone, with its own LICENSE template."""
    template = REPO / "template"
    (repository,) = template.glob("*LICENSE*")
    (app,) = (template / "{{ slug }}").glob("*LICENSE*")
    assert app.read_text(encoding="utf-8") == repository.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template as a clone has it: this repository's own LICENSE and README at the top."""
    clone = tmp_path_factory.mktemp("clone")
    for part in ("copier.yml", "template", "includes", "LICENSE", "README.md", "CHANGELOG.md"):
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, clone / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, clone / part)
    return clone


@pytest.mark.parametrize("layout", ["repository", "app"])
def test_the_templates_own_license_is_never_rendered(
    clone: Path, tmp_path: Path, layout: str
) -> None:
    none = copy(clone, tmp_path / "none", **ANSWERS, license="none", layout=layout)
    assert [path for path in none.rglob("*") if "LICENSE" in path.name] == []
    gpl = copy(clone, tmp_path / "gpl", **ANSWERS, license="GPL-3.0-or-later", layout=layout)
    assert [path.relative_to(gpl) for path in gpl.rglob("*LICENSE*")] == [Path("LICENSE")]
    assert (gpl / "LICENSE").read_text(encoding="utf-8") == debian_text("GPL-3.0-or-later")
