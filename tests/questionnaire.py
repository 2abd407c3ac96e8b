"""copier.yml as copier reads it: its questions, and their choices and defaults rendered from the
tables in includes/. The suite and the benchmarks take every choice from here, so that a new row
of a table reaches them without anyone restating a list."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

REPO = Path(__file__).resolve().parents[1]
# What a templated choice or default may use besides the answers given so far (mounts.jinja's
# texts name the slug); never part of a value.
CONTEXT = {"slug": "demo"}


class Questionnaire:
    """The questions of the template whose copier.yml is in root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @functools.cached_property
    def config(self) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load((self.root / "copier.yml").read_text("utf-8"))
        return loaded

    @functools.cached_property
    def questions(self) -> frozenset[str]:
        """Names users may answer: every question that is not a computed (`when: false`) value."""
        return frozenset(
            key
            for key, spec in self.config.items()
            if not key.startswith("_")
            and not (isinstance(spec, dict) and spec.get("when") is False)
        )

    @functools.cached_property
    def environment(self) -> SandboxedEnvironment:
        """Jinja as copier sets it up for this template: its filters and copier.yml's _envops."""
        return SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(self.root),
            extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, source: str, **answers: Any) -> str:
        """A templated value of copier.yml, rendered with the answers given so far."""
        return self._compiled(source).render(CONTEXT | answers)

    @functools.cache  # noqa: B019 - one Questionnaire per template, alive for the whole run
    def _compiled(self, source: str) -> jinja2.Template:
        return self.environment.from_string(source)

    def include(self, name: str, **answers: Any) -> Any:
        """The module of one file of includes/ (its macros and values); a table that uses the
        answers (`import ... with context`) needs them given."""
        template = self.environment.get_template(f"includes/{name}")
        return template.make_module(CONTEXT | answers) if answers else template.module

    def choices(self, question: str, **answers: Any) -> dict[str, Any]:
        """A question's choices as copier offers them, {label: value or {value, validator}}:
        rendered (with the answers given so far) when copier.yml computes them from a table."""
        source = self.config[question]["choices"]
        if isinstance(source, str):
            source = yaml.safe_load(self.render(source, **answers))
        if isinstance(source, list):
            return {str(value): value for value in source}
        return dict(source)

    def choice_values(self, question: str, **answers: Any) -> list[Any]:
        """The values a question offers, in copier.yml's order."""
        return [
            value["value"] if isinstance(value, dict) else value
            for value in self.choices(question, **answers).values()
        ]

    def default(self, question: str, **answers: Any) -> Any:
        """A question's default (or a computed value) as copier computes it: a templated one
        rendered with the answers given so far, then read as YAML unless it is a string, as
        copier casts it (a multiple choice is a list)."""
        spec = self.config[question]
        value = spec.get("default")
        if not (isinstance(value, str) and ("{{" in value or "{%" in value)):
            return value
        rendered = self.render(value, **answers)
        if spec.get("type", "str") == "str" and not spec.get("multiselect"):
            return rendered
        return yaml.safe_load(rendered)


@functools.cache
def questionnaire(root: Path = REPO) -> Questionnaire:
    return Questionnaire(root)


# The template in this repository, as the tests use it.
def copier_config() -> dict[str, Any]:
    return questionnaire().config


def questions() -> frozenset[str]:
    return questionnaire().questions


def includes_environment() -> SandboxedEnvironment:
    return questionnaire().environment


def include(name: str, **answers: Any) -> Any:
    return questionnaire().include(name, **answers)


def choices(question: str, **answers: Any) -> dict[str, Any]:
    return questionnaire().choices(question, **answers)


def choice_values(question: str, **answers: Any) -> list[Any]:
    return questionnaire().choice_values(question, **answers)


def default(question: str, **answers: Any) -> Any:
    return questionnaire().default(question, **answers)


@functools.cache
def reserved_slugs() -> frozenset[str]:
    """The slugs the template refuses: includes/python_names.jinja's RESERVED."""
    return frozenset(include("python_names.jinja").RESERVED)
