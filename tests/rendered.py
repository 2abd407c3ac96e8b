"""Read a rendered add-on: where its files are and what they say."""

from __future__ import annotations

import functools
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from combos import Combo

TEXT_SUFFIXES = {".py", ".yaml", ".yml", ".md", ".txt", ".toml", ".json", ".cfg", ""}


@dataclass(frozen=True)
class Rendered:
    """A rendered project and the answers that made it."""

    root: Path
    combo: Combo

    @property
    def addon(self) -> Path:
        return self.root / self.combo.slug if self.combo.layout == "repository" else self.root

    @functools.cached_property
    def config(self) -> dict[str, Any]:
        return load_yaml(self.addon / "config.yaml")

    @functools.cached_property
    def config_text(self) -> str:
        return (self.addon / "config.yaml").read_text(encoding="utf-8")

    def files(self) -> list[Path]:
        return self._files

    @functools.cached_property
    def _files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file())

    def text_files(self) -> list[Path]:
        return [p for p in self.files() if p.suffix in TEXT_SUFFIXES]

    def python_files(self) -> list[Path]:
        return [p for p in self.files() if p.suffix == ".py"]


# libyaml's loader when PyYAML has it: the suite parses thousands of files.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)


def png_size(path: Path) -> tuple[int, int]:
    """Parse a PNG completely (signature, chunk CRCs, image data) and return (width, height)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"{path}: bad CRC in {kind!r}"
        chunks.append((kind, body))
        position += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(pixels) == height * (1 + width * channels * depth // 8), f"{path}: truncated data"
    return width, height


APPARMOR_RULE = re.compile(r"^\s*(/[^\s,]*)\s+([a-zA-Z]+),\s*$", re.MULTILINE)


def apparmor_rules(text: str) -> dict[str, str]:
    """Map each path rule of a profile to its permissions."""
    return {path: perms for path, perms in APPARMOR_RULE.findall(text)}
