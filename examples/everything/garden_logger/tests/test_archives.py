"""Listing Home Assistant's backup archives: links are skipped, even while another add-on swaps."""

import os
from pathlib import Path

import swapper
from garden_logger.archives import list_backups


def test_lists_tar_archives_newest_first(tmp_path: Path) -> None:
    for age, name in ((300, "old.tar"), (100, "new.tar")):
        (tmp_path / name).write_bytes(b"x" * age)
        os.utime(tmp_path / name, (1_700_000_000 - age, 1_700_000_000 - age))
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "link.tar").symlink_to(tmp_path / "old.tar")
    archives = list_backups(tmp_path)
    assert [archive.path.name for archive in archives] == ["new.tar", "old.tar"]
    assert archives[1].size == 300


# Listings that show the race was run; against the old code, runs with these let 132 to 833 of
# them report the file behind the link.
LISTINGS = 20_000


@swapper.needs_swapper
def test_a_link_swapped_in_is_never_reported(tmp_path: Path) -> None:
    backup, data = tmp_path / "backup", tmp_path / "data"
    backup.mkdir()
    data.mkdir()
    (backup / "real.tar").write_bytes(b"x" * 10)
    (data / "secret").write_bytes(b"x" * 99)
    (backup / "link.tar").symlink_to(data / "secret")
    outcomes = {"listed": 0, "escaped": 0}
    with swapper.swapping(backup / "real.tar", backup / "link.tar"):
        for _ in range(swapper.TRIES):
            sizes = [archive.size for archive in list_backups(backup)]
            outcomes["escaped" if 99 in sizes else "listed"] += 1
            if outcomes["listed"] >= LISTINGS:
                break
    assert outcomes["escaped"] == 0, outcomes
    assert outcomes["listed"] >= LISTINGS, outcomes
