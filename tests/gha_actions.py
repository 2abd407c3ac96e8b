"""Stand-ins for the actions the generated workflows call, and the registry they publish to.

Each stand-in gives the outputs, and does the pushes, that its action.yml does at the pinned
commit (read there, and named in each docstring); a step whose inputs the
real action would turn into a reference docker refuses fails here the same way. The registry is a
JSON file that the stand-ins and a stand-in `docker` command (for the workflow's own
`docker login` / `docker manifest inspect`) share.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from gha_runner import ActionFailed, StandIn, Step

CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
INFO = "home-assistant/actions/helpers/info@e91ad1948e57189485b9c1ad608af0c303946f89"
BUILDER = "home-assistant/builder/actions/{}@4de35182ce1e329181bffcbcc84d33db5e2c7e10"

# Docker's reference grammar (github.com/distribution/reference, regexp.go): lowercase path
# components separated by '/', an optional registry host, a tag of at most 128 characters.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*(?::\d+)?"
REFERENCE = re.compile(rf"^(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*:[\w][\w.-]{{0,127}}$")


class Registry:
    """Images pushed so far: reference -> {"labels", "arch"} or {"manifests": [references]}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            self.save({})

    def load(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return loaded

    def save(self, images: dict[str, Any]) -> None:
        self.path.write_text(json.dumps(images, indent=1, sort_keys=True), encoding="utf-8")

    def push(self, reference: str, content: dict[str, Any], owner: str) -> None:
        if not REFERENCE.match(reference):
            # What `docker buildx` says for a reference such as "ghcr.io/x/y":"0.1.0"
            raise ActionFailed(f"invalid reference format: {reference}")
        if not reference.startswith(f"ghcr.io/{owner.lower()}/"):
            # GITHUB_TOKEN writes packages only under the repository's owner.
            raise ActionFailed(f"denied: permission_denied: write_package ({reference})")
        images = self.load()
        images[reference] = content
        self.save(images)


DOCKER = """#!/usr/bin/env python3
# The runner's docker CLI, stood in: `login` and `manifest inspect` against the walk's registry.
import json, sys
registry = json.load(open({registry!r}, encoding="utf-8"))
args = sys.argv[1:]
with open({calls!r}, "a", encoding="utf-8") as calls:
    calls.write(json.dumps(args) + "\\n")
if args[:1] == ["login"]:
    if not sys.stdin.read().strip():
        sys.exit("Error: Cannot perform an interactive login from a non TTY device")
    print("Login Succeeded")
elif args[:2] == ["manifest", "inspect"]:
    failure = {failure!r}
    if failure:
        sys.exit(failure)
    if args[2] not in registry:
        sys.exit("manifest unknown")  # the docker CLI's words for a tag ghcr.io does not have
    print(json.dumps({{"schemaVersion": 2, "manifests": registry[args[2]].get("manifests", [])}}))
else:
    sys.exit("stand-in docker: unexpected arguments " + " ".join(args))
"""


def install_docker(folder: Path, registry: Registry, *, failure: str = "") -> Path:
    """A `docker` executable for the walk's PATH; its calls are logged to docker-calls.jsonl."""
    folder.mkdir(parents=True, exist_ok=True)
    docker = folder / "docker"
    calls = folder / "docker-calls.jsonl"
    docker.write_text(
        DOCKER.format(registry=str(registry.path), calls=str(calls), failure=failure),
        encoding="utf-8",
    )
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    return docker


def _lines(value: str) -> list[str]:
    return [line for line in value.splitlines() if line]


def checkout(step: Step) -> dict[str, str]:
    """The workspace already is the pushed commit, with its history (fetch-depth: 0 or not)."""
    return {}


def info(step: Step) -> dict[str, str]:
    """home-assistant/actions helpers/info/action.yml (e91ad19), its `info` step: each output
    is `yq e -N -M '.<key>' -o=json -I=0 config.yaml`, compact JSON that keeps a string's quotes,
    and `null` for a missing key; `architectures` is the `arch` list. A missing name, version,
    slug, description or arch fails the step."""
    folder = step.walk.workspace / step.inputs.get("path", ".")
    config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))

    def as_json(key: str) -> str:
        return json.dumps(config.get(key), ensure_ascii=False, separators=(",", ":"))

    for key in ("name", "version", "slug", "description", "arch"):
        if config.get(key) in (None, "", []):
            raise ActionFailed(f"Required config option '{key}' is missing")
    outputs = {
        key: as_json(key) for key in ("image", "version", "name", "slug", "description", "url")
    }
    outputs["architectures"] = as_json("arch")
    return outputs


def prepare_matrix(step: Step) -> dict[str, str]:
    """home-assistant/builder actions/prepare-multi-arch-matrix/action.yml (2026.06.0):
    one entry per architecture, image `<registry-prefix>/<arch>-<image-name>`."""
    runners = {"amd64": "ubuntu-24.04", "aarch64": "ubuntu-24.04-arm"}
    prefix = step.inputs.get("registry-prefix") or f"ghcr.io/{step.walk.github['repository_owner']}"
    include = []
    for arch in json.loads(step.inputs["architectures"]):
        if arch not in runners:
            raise ActionFailed(
                f"Unsupported architecture: {arch}. Supported values: amd64, aarch64"
            )
        image = f"{prefix}/{arch}-{step.inputs['image-name']}"
        include.append({"arch": arch, "os": runners[arch], "image": image})
    return {"matrix": json.dumps({"include": include}, separators=(",", ":"))}


def build_image(registry: Registry) -> StandIn:
    """home-assistant/builder actions/build-image/action.yml (2026.06.0), its `options` step:
    tags are `<image>:<tag>` per line of image-tags; labels are io.hass.arch, io.hass.version,
    the OCI created/source/version labels, then each line of `labels`; pushed if push is 'true'."""

    def stand_in(step: Step) -> dict[str, str]:
        inputs = step.inputs
        owner = step.walk.github["repository_owner"]
        version = inputs["version"]
        labels = {
            "io.hass.arch": inputs["arch"],
            "io.hass.version": version,
            "org.opencontainers.image.source": f"https://github.com/{step.walk.github['repository']}",
            "org.opencontainers.image.version": version,
        }
        for line in _lines(inputs.get("labels", "")):
            key, separator, value = line.partition("=")
            if not separator:
                raise ActionFailed(f"invalid label {line!r}: expected key=value")
            labels[key] = value
        tags = [f"{inputs['image']}:{tag}" for tag in _lines(inputs["image-tags"])]
        for tag in tags:
            if not REFERENCE.match(tag):
                raise ActionFailed(f"invalid tag {tag!r}: invalid reference format")
        context = step.walk.workspace / inputs.get("context", ".")
        if not (context / "Dockerfile").is_file():
            raise ActionFailed(f"{context}/Dockerfile: no such file or directory")
        step.walk.run_record.logs.append(f"built {tags} push={inputs.get('push', 'false')}")
        if inputs.get("push", "false") == "true":
            for tag in tags:
                registry.push(tag, {"arch": inputs["arch"], "labels": labels}, owner)
        return {"digest": "sha256:" + "0" * 64}

    return stand_in


def publish_manifest(registry: Registry) -> StandIn:
    """home-assistant/builder actions/publish-multi-arch-manifest/action.yml (2026.06.0):
    sources `<prefix>/<arch>-<image-name>:<first tag>`, which must be in the registry;
    the manifest is tagged `<prefix>/<image-name>:<tag>` for each tag."""

    def stand_in(step: Step) -> dict[str, str]:
        inputs = step.inputs
        owner = step.walk.github["repository_owner"]
        prefix = inputs.get("registry-prefix") or f"ghcr.io/{step.walk.github['repository_owner']}"
        tags = _lines(inputs["image-tags"])
        sources = [
            f"{prefix}/{arch}-{inputs['image-name']}:{tags[0]}"
            for arch in json.loads(inputs["architectures"])
        ]
        images = registry.load()
        for source in sources:
            if source not in images:
                raise ActionFailed(f"{source}: not found")
        for tag in tags:
            registry.push(f"{prefix}/{inputs['image-name']}:{tag}", {"manifests": sources}, owner)
        return {}

    return stand_in


def stand_ins(registry: Registry) -> dict[str, StandIn]:
    """Every action the generated workflows call, at the commit they pin."""
    return {
        CHECKOUT: checkout,
        INFO: info,
        BUILDER.format("prepare-multi-arch-matrix"): prepare_matrix,
        BUILDER.format("build-image"): build_image(registry),
        BUILDER.format("publish-multi-arch-manifest"): publish_manifest(registry),
    }
