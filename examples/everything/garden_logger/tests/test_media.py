"""Listing /media: hidden files and links are left out, even while another add-on swaps links."""

from pathlib import Path

import swapper
from garden_logger.media import list_media


def test_lists_files_by_suffix_without_hidden_files_or_links(tmp_path: Path) -> None:
    (tmp_path / "music").mkdir()
    (tmp_path / "music" / "a.MP3").write_text("x")
    (tmp_path / "music" / "b.txt").write_text("x")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.mp3").write_text("x")
    (tmp_path / "link.mp3").symlink_to(tmp_path / "music" / "a.MP3")
    (tmp_path / "linked-folder").symlink_to(tmp_path / "music")
    assert list_media({".mp3"}, tmp_path) == [Path("music/a.MP3")]
    assert list_media(folder=tmp_path) == [Path("music/a.MP3"), Path("music/b.txt")]


# Listings of each kind (with the folder, without it) that show the race was run; against the old
# code, runs with 10000 let 35 to 61 escape.
LISTINGS = 6000


@swapper.needs_swapper
def test_listing_never_enters_a_link_swapped_in_by_another_addon(tmp_path: Path) -> None:
    media, data = tmp_path / "media", tmp_path / "data"
    (media / "music").mkdir(parents=True)
    data.mkdir()
    (media / "music" / "song.mp3").write_text("x")
    (data / "secret.mp3").write_text("x")
    (media / "music-link").symlink_to(data)
    outcomes = {"listed": 0, "skipped": 0, "escaped": 0}
    with swapper.swapping(media / "music", media / "music-link"):
        for _ in range(swapper.TRIES):
            listing = list_media(folder=media)
            if Path("music/secret.mp3") in listing:
                outcomes["escaped"] += 1
            else:
                outcomes["listed" if Path("music/song.mp3") in listing else "skipped"] += 1
            if min(outcomes["listed"], outcomes["skipped"]) >= LISTINGS:
                break
    assert outcomes["escaped"] == 0, outcomes
    met = min(outcomes["listed"], outcomes["skipped"])
    assert met >= LISTINGS, f"no race was run: {outcomes}"
