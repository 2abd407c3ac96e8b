"""The walk's expression evaluator agrees with GitHub's documented examples.

Source: docs.github.com, "Evaluate expressions in workflows and actions" (operators, literals,
functions) and the workflow syntax for `if:`.
"""

from __future__ import annotations

from typing import Any

import pytest

from gha_expressions import condition, evaluate, substitute

CONTEXT: dict[str, Any] = {
    "github": {"event_name": "push", "ref": "refs/heads/main", "event": {"before": "abc"}},
    "needs": {"find": {"outputs": {"apps": '["a","b"]', "changed": '["b"]'}}},
    "inputs": {"publish": True, "app": "b"},
    "matrix": {"app": "b"},
}


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("github.event_name == 'push'", True),
        ("github.event_name == 'PUSH'", True),  # strings compare case-insensitively
        ("github.event_name != 'pull_request' && github.ref == 'refs/heads/main'", True),
        ("github['event']['before']", "abc"),
        ("github.event.pull_request.base.sha", None),  # a missing property is null
        ("contains(fromJSON(needs.find.outputs.changed), matrix.app)", True),
        ("contains(fromJSON(needs.find.outputs.changed), 'a')", False),
        ("needs.find.outputs.apps != '[]'", True),
        ("format('io.hass.url={0}', 'x')", "io.hass.url=x"),
        ("format('{{0}} {0}', 'x')", "{0} x"),
        ("'' || 'fallback'", "fallback"),  # || and && return an operand
        ("'a' && 'b'", "b"),
        ("!inputs.publish", False),
        ("1 == '1'", True),  # mixed types compare as numbers
        ("null == 0", True),
        ("'It''s'", "It's"),
        ('fromJSON(\'{"include":[{"arch":"amd64"}]}\').include[0].arch', "amd64"),
    ],
)
def test_expressions_evaluate_as_documented(expression: str, value: Any) -> None:
    assert evaluate(expression, CONTEXT) == value


def test_one_whole_expression_keeps_its_type_and_others_become_text() -> None:
    assert substitute("${{ inputs.publish }}", CONTEXT) is True
    assert substitute("./${{ inputs.app }}", CONTEXT) == "./b"
    assert substitute("${{ inputs.publish }} and ${{ inputs.app }}", CONTEXT) == "true and b"


def test_if_adds_success_unless_it_asks_for_a_status() -> None:
    assert condition(None, CONTEXT, lambda s: s == "success") is True
    assert condition("inputs.publish", CONTEXT, lambda s: False) is False
    assert condition("${{ always() }}", CONTEXT, lambda s: s == "always") is True
    assert condition("failure()", CONTEXT, lambda s: s == "failure") is True
