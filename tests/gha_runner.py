"""A walk through a workflow the way GitHub runs it: jobs in `needs` order, matrices, `if:`s,
reusable workflows, `run:` steps in bash, and `uses:` steps answered by stand-ins.

Each stand-in reproduces what its action does at the pinned commit, read from that commit's
action.yml, and refuses any other pin, so moving a pin means reading the new action.yml again.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gha_expressions import condition, substitute, text

ANNOTATION = re.compile(r"^::(error|warning|notice)(?: [^:]*)?::(.*)$", re.MULTILINE)


class ActionFailed(Exception):
    """A stand-in action's step failed, as the real action would have."""


@dataclass
class Step:
    """What a stand-in sees: its `with:` inputs as strings, and the run's shared state."""

    inputs: dict[str, str]
    walk: Walk
    job_name: str


StandIn = Callable[[Step], Mapping[str, str]]


@dataclass
class Run:
    """The record of one workflow run: each job's result, its outputs and the annotations."""

    jobs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    annotations: list[tuple[str, str, str]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [message for kind, _, message in self.annotations if kind == "error"]

    @property
    def succeeded(self) -> bool:
        return all(result in ("success", "skipped") for result in self.jobs.values())


def read_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block: list[str] = []
            for body in lines:
                if body == delimiter:
                    break
                block.append(body)
            else:
                raise ActionFailed(f"Matching delimiter not found '{delimiter}'")
            outputs[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        elif line:
            raise ActionFailed(f"Invalid format '{line}'")
    return outputs


class Walk:
    """Runs workflows of one repository checkout, as on GitHub for one event."""

    def __init__(
        self,
        workspace: Path,
        actions: Mapping[str, StandIn],
        *,
        event_name: str,
        ref: str = "refs/heads/main",
        event: Mapping[str, Any] | None = None,
        repository: str = "example/addons",
        path: str = "/usr/bin:/bin",
        scratch: Path,
    ) -> None:
        self.workspace = workspace
        self.actions = actions
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)
        self.path = path
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=workspace, capture_output=True, text=True, check=True
        ).stdout.strip()
        self.github: dict[str, Any] = {
            "event_name": event_name,
            "ref": ref,
            "sha": sha,
            "repository": repository,
            "repository_owner": repository.split("/")[0],
            "actor": "octocat",
            "event": dict(event or {}),
            "workspace": str(workspace),
        }
        self.secrets = {"GITHUB_TOKEN": "ghs_walk-token"}
        self.run_record = Run()
        self._counter = itertools.count()

    # -- workflows and jobs ----------------------------------------------------------------------

    def workflow(self, relative: str, inputs: Mapping[str, Any] | None = None) -> Run:
        """Run a workflow file of the workspace; a reusable one gets `inputs`."""
        spec = yaml.safe_load((self.workspace / relative).read_text(encoding="utf-8"))
        typed_inputs = self._inputs(spec, inputs or {})
        results: dict[str, str] = {}
        outputs: dict[str, dict[str, Any]] = {}
        pending = dict(spec["jobs"])
        while pending:
            ready = [
                name
                for name, job in pending.items()
                if all(need in results for need in _list(job.get("needs")))
            ]
            assert ready, f"{relative}: jobs wait on each other: {sorted(pending)}"
            for name in ready:
                job = pending.pop(name)
                needs = {
                    need: {"result": results[need], "outputs": outputs.get(need, {})}
                    for need in _list(job.get("needs"))
                }
                result, job_outputs = self._job(
                    f"{relative}:{name}", job, typed_inputs, needs, spec.get("env", {})
                )
                results[name], outputs[name] = result, job_outputs
                self.run_record.jobs[f"{relative}:{name}"] = result
                self.run_record.outputs[f"{relative}:{name}"] = job_outputs
        return self.run_record

    def _inputs(self, spec: Mapping[Any, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        on = spec.get(True, spec.get("on")) or {}  # PyYAML reads the key `on` as True
        declared = (on.get("workflow_call") or {}).get("inputs", {}) if isinstance(on, dict) else {}
        typed: dict[str, Any] = {}
        for name, declaration in declared.items():
            if name not in given:
                assert not declaration.get("required"), f"required input {name} not given"
                typed[name] = declaration.get("default")
                continue
            value = given[name]
            kind = declaration["type"]
            expected = {"boolean": bool, "string": str, "number": int | float}[kind]
            assert isinstance(value, expected), f"input {name}: {value!r} is not a {kind}"
            typed[name] = value
        unknown = set(given) - set(declared)
        assert not unknown, f"inputs the workflow does not declare: {unknown}"
        return typed

    def _job(
        self,
        label: str,
        job: Mapping[str, Any],
        inputs: Mapping[str, Any],
        needs: Mapping[str, Any],
        workflow_env: Mapping[str, Any],
    ) -> tuple[str, dict[str, Any]]:
        needs_ok = all(need["result"] == "success" for need in needs.values())
        base = {
            "github": self.github,
            "inputs": inputs,
            "needs": needs,
            "secrets": self.secrets,
            "env": dict(workflow_env),
            "vars": {},
        }

        def job_status(function: str) -> bool:
            return {"success": needs_ok, "failure": not needs_ok, "always": True}.get(
                function, False
            )

        if not condition(job.get("if"), base, job_status):
            self.run_record.logs.append(f"{label}: skipped")
            return "skipped", {}
        strategy = job.get("strategy", {})
        combinations = _matrix(substitute(strategy.get("matrix"), base)) if strategy else [{}]
        result, outputs = "success", dict[str, Any]()
        for matrix in combinations:
            context = {**base, "matrix": matrix}
            if "uses" in job:
                reusable = job["uses"]
                assert reusable.startswith("./"), f"{label}: only local reusable workflows"
                called = {k: substitute(v, context) for k, v in (job.get("with") or {}).items()}
                inner = Walk.__new__(Walk)
                inner.__dict__.update(self.__dict__)
                inner.run_record = Run()
                run = inner.workflow(reusable[2:], called)
                for inner_label, inner_result in run.jobs.items():
                    self.run_record.jobs[f"{label}[{text(matrix)}]>{inner_label}"] = inner_result
                self.run_record.annotations += run.annotations
                self.run_record.logs += run.logs
                if not run.succeeded:
                    result = "failure"
                continue
            job_result, job_outputs = self._steps(label, job, context)
            if job_result != "success":
                result = "failure"
            outputs = job_outputs or outputs
        return result, outputs

    def _steps(
        self, label: str, job: Mapping[str, Any], context: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        context = {**context, "env": {**context["env"], **substitute(job.get("env", {}), context)}}
        steps: dict[str, Any] = {}
        context["steps"] = steps
        failed = False

        def status(function: str) -> bool:
            return {"success": not failed, "failure": failed, "always": True}.get(function, False)

        working_directory = (job.get("defaults", {}).get("run", {}) or {}).get("working-directory")
        for index, step in enumerate(job.get("steps", [])):
            step_id = step.get("id", f"__{index}")
            step_context = {
                **context,
                "env": {**context["env"], **substitute(step.get("env", {}), context)},
            }
            if not condition(step.get("if"), step_context, status):
                steps[step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            try:
                if "run" in step:
                    directory = step.get("working-directory", working_directory)
                    if directory is not None:
                        directory = substitute(directory, step_context)
                    outputs: Mapping[str, str] = self._bash(label, step, step_context, directory)
                else:
                    outputs = self._action(label, step, step_context)
                steps[step_id] = {"outputs": outputs, "outcome": "success"}
            except ActionFailed as failure:
                self.run_record.logs.append(f"{label}: step {step_id} failed: {failure}")
                steps[step_id] = {"outputs": {}, "outcome": "failure"}
                failed = True
        if failed:
            return "failure", {}
        outputs = {k: substitute(v, context) for k, v in (job.get("outputs") or {}).items()}
        return "success", {k: text(v) for k, v in outputs.items()}

    # -- steps -----------------------------------------------------------------------------------

    def _bash(
        self,
        label: str,
        step: Mapping[str, Any],
        context: Mapping[str, Any],
        directory: str | None,
    ) -> dict[str, str]:
        number = next(self._counter)
        script = self.scratch / f"step-{number}.sh"
        script.write_text(substitute(step["run"], context), encoding="utf-8")
        output_file = self.scratch / f"output-{number}"
        output_file.write_text("", encoding="utf-8")
        env = {
            "PATH": self.path,
            "HOME": str(self.scratch),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_ACTOR": self.github["actor"],
            "GITHUB_REPOSITORY": self.github["repository"],
            "GITHUB_REPOSITORY_OWNER": self.github["repository_owner"],
            "GITHUB_EVENT_NAME": self.github["event_name"],
            "GITHUB_REF": self.github["ref"],
            "GITHUB_SHA": self.github["sha"],
            "GITHUB_WORKSPACE": str(self.workspace),
            **{k: text(v) for k, v in context["env"].items()},
        }
        cwd = self.workspace / directory if directory else self.workspace
        # GitHub runs a step without `shell:` as `bash -e {0}`, and `shell: bash` as
        # `bash --noprofile --norc -eo pipefail {0}` (workflow syntax: jobs.<id>.steps[*].shell).
        shell = step.get("shell")
        assert shell in (None, "bash"), f"{label}: shell {shell} is not walked"
        command = (
            ["bash", "-e"]
            if shell is None
            else ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
        )
        result = subprocess.run(
            [*command, str(script)],
            cwd=cwd, env=env,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        for kind, message in ANNOTATION.findall(result.stdout):
            self.run_record.annotations.append((kind, label, message))
        self.run_record.logs.append(f"{label}: {result.stdout}{result.stderr}")
        if result.returncode != 0:
            raise ActionFailed(f"exit {result.returncode}: {result.stderr.strip()}")
        return read_outputs(output_file)

    def _action(
        self, label: str, step: Mapping[str, Any], context: Mapping[str, Any]
    ) -> Mapping[str, str]:
        uses: str = step["uses"]
        stand_in = self.actions.get(uses)
        assert stand_in is not None, (
            f"{label}: no stand-in for {uses}; read that action.yml at this pin and add one"
        )
        inputs = {k: text(substitute(v, context)) for k, v in (step.get("with") or {}).items()}
        return stand_in(Step(inputs=inputs, walk=self, job_name=label))


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _matrix(matrix: Any) -> list[dict[str, Any]]:
    """A strategy's combinations: the product of its vectors, then `include` entries."""
    assert isinstance(matrix, dict), f"matrix is {matrix!r}"
    vectors = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    for name, values in vectors.items():
        # GitHub: "Matrix vector 'app' does not contain any values"
        if not values:
            raise ActionFailed(f"Matrix vector '{name}' does not contain any values")
    combinations = (
        [dict(zip(vectors, values, strict=True)) for values in itertools.product(*vectors.values())]
        if vectors
        else []
    )
    combinations += list(matrix.get("include", []))
    if not combinations:
        raise ActionFailed("Matrix must define at least one vector")
    return combinations
