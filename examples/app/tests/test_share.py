"""Files in /share: names that leave /share are refused, even while another add-on swaps links."""

import os
from pathlib import Path

import pytest

import swapper
from garden_logger.share import (
    ShareError,
    export_file,
    import_file,
)

BAD_NAMES = ["../escape.txt", "a/../../x", "a/../b", "/etc/passwd", "", ".", "a/..", "a\0b", "\0"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_outside_share_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").write_text("inside")
    with pytest.raises(ShareError, match="is not a file name inside") as caught:
        import_file(name, tmp_path)
    assert "\n" not in str(caught.value)


def test_links_are_not_followed_out_of_share_or_within_it(tmp_path: Path) -> None:
    share, data = tmp_path / "share", tmp_path / "data"
    share.mkdir()
    data.mkdir()
    (data / "options.json").write_text("secret")
    (share / "real.txt").write_text("inside")
    (share / "out").symlink_to(data)
    (share / "options.json").symlink_to(data / "options.json")
    (share / "alias.txt").symlink_to("real.txt")
    for name in ("out/options.json", "options.json", "alias.txt"):
        with pytest.raises(ShareError, match="is a link"):
            import_file(name, share)


def test_import_reads_a_file_and_reports_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "data.csv").write_text("a,b\n")
    assert import_file("in/data.csv", tmp_path) == b"a,b\n"
    assert import_file("./in//data.csv", tmp_path) == b"a,b\n"
    with pytest.raises(ShareError, match="does not exist"):
        import_file("missing.csv", tmp_path)
    with pytest.raises(ShareError, match="does not exist"):
        import_file("nowhere/data.csv", tmp_path)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    for name in ("pipe", "folder"):
        with pytest.raises(ShareError, match="is not a regular file"):
            import_file(name, tmp_path)


# Outcomes of each kind (read inside and refused, or written and refused) that show the race was
# run. Against the old check-then-use code, runs with these numbers let 26 to 1369 imports and 89
# to 130 exports escape. Exports are fewer: each one is fsynced twice.
IMPORTS = 3000
EXPORTS = 300


def arena(tmp_path: Path) -> tuple[Path, Path]:
    """/share with a folder and a file, /data with options.json, and links to it in /share."""
    share, data = tmp_path / "share", tmp_path / "data"
    (share / "folder").mkdir(parents=True)
    data.mkdir()
    (share / "folder" / "options.json").write_bytes(b"inside")
    (data / "options.json").write_bytes(b"secret")
    (share / "folder-link").symlink_to(data)
    (share / "folder" / "options-link.json").symlink_to(data / "options.json")
    return share, data


@swapper.needs_swapper
@pytest.mark.parametrize(
    "swapped", [("folder", "folder-link"), ("folder/options.json", "folder/options-link.json")]
)
def test_imports_never_leave_share_while_another_addon_swaps_in_links(
    tmp_path: Path, swapped: tuple[str, str]
) -> None:
    share, _ = arena(tmp_path)
    outcomes = {"inside": 0, "refused": 0, "escaped": 0}
    with swapper.swapping(share / swapped[0], share / swapped[1]):
        for _ in range(swapper.TRIES):
            try:
                data = import_file("folder/options.json", share)
            except ShareError:
                outcomes["refused"] += 1
            else:
                outcomes["inside" if data == b"inside" else "escaped"] += 1
            if min(outcomes["inside"], outcomes["refused"]) >= IMPORTS:
                break
    assert outcomes["escaped"] == 0, outcomes
    met = min(outcomes["inside"], outcomes["refused"])
    assert met >= IMPORTS, f"no race was run: {outcomes}"


@swapper.needs_swapper
def test_exports_never_leave_share_while_another_addon_swaps_in_links(tmp_path: Path) -> None:
    share, data = arena(tmp_path)
    outcomes = {"written": 0, "refused": 0}
    with swapper.swapping(share / "folder", share / "folder-link"):
        for number in range(swapper.TRIES):
            try:
                export_file(f"folder/export-{number}.json", "{}", share)
            except ShareError:
                outcomes["refused"] += 1
            else:
                outcomes["written"] += 1
            if min(outcomes.values()) >= EXPORTS:
                break
    escaped = sorted(path.name for path in data.iterdir() if path.name != "options.json")
    assert escaped == [], f"{len(escaped)} exports were written into /data: {outcomes}"
    assert min(outcomes.values()) >= EXPORTS, f"no race was run: {outcomes}"


def test_export_writes_atomically_into_new_subfolders(tmp_path: Path) -> None:
    path = export_file("exports/daily/status.json", '{"ok": true}', tmp_path)
    assert path == tmp_path / "exports" / "daily" / "status.json"
    assert import_file("exports/daily/status.json", tmp_path) == b'{"ok": true}'
    export_file("exports/daily/status.json", b"{}", tmp_path)
    assert import_file("exports/daily/status.json", tmp_path) == b"{}"
    assert sorted(p.name for p in path.parent.iterdir()) == ["status.json"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_exports_outside_share_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(ShareError, match="is not a file name inside"):
        export_file(name, "x", tmp_path)


def test_exports_do_not_follow_links(tmp_path: Path) -> None:
    share, data = tmp_path / "share", tmp_path / "data"
    share.mkdir()
    data.mkdir()
    (share / "out").symlink_to(data)
    (share / "status.json").symlink_to(data / "options.json")
    with pytest.raises(ShareError, match="is a link"):
        export_file("out/status.json", "{}", share)
    export_file("status.json", "{}", share)  # replaces the link itself
    assert not (share / "status.json").is_symlink()
    assert list(data.iterdir()) == []


def test_exports_are_readable_by_everyone_whatever_the_umask(tmp_path: Path) -> None:
    """0644 files in 0755 folders: other add-ons and people read them, only root changes them."""
    (tmp_path / "mine").mkdir(mode=0o700)
    (tmp_path / "mine").chmod(0o700)
    previous = os.umask(0)
    try:
        export_file("new/deeper/status.json", "{}", tmp_path)
        export_file("mine/status.json", "{}", tmp_path)
    finally:
        os.umask(previous)
    modes = {
        name: (tmp_path / name).stat().st_mode & 0o777
        for name in ("new", "new/deeper", "new/deeper/status.json", "mine", "mine/status.json")
    }
    assert modes == {
        "new": 0o755,
        "new/deeper": 0o755,
        "new/deeper/status.json": 0o644,
        "mine": 0o700,  # an existing folder keeps its mode
        "mine/status.json": 0o644,
    }
