"""Tags on the search page, in Debian's chromium: the most common tags offered as filters,
a photo's tags and description on its page, each tag a search of its photos."""

from __future__ import annotations

import psycopg

from tests.support.database import superuser


def shown(browser) -> list[str]:
    return [c.get_attribute("data-asset") for c in browser.locator("#grid figure.card").all()]


def tag(conn: psycopg.Connection, asset: str, *labels: str) -> None:
    """Stores tags for a photo through the tags task's own store function."""
    tags = [
        {"label": x, "probability": 0.9 - 0.1 * i, "similarity": 0.3} for i, x in enumerate(labels)
    ]
    conn.execute(
        "SELECT photo_ai.write_tags(%s, %s)", [asset, psycopg.types.json.Jsonb({"tags": tags})]
    )


def test_tags_filter_the_search_and_show_on_a_photo(analysed, assets, serve, browser, screenshot):
    beach, forest = assets["beach.jpg"], assets["forest.jpg"]
    with superuser(analysed) as conn:
        conn.execute(
            "UPDATE photo_ai.asset SET taken_at = '2023-08-01 10:00+00' WHERE id = %s", [beach]
        )
        tag(conn, beach, "海滩", "日落")
        tag(conn, forest, "森林")
    page = serve(analysed)
    browser.goto(page.url + "/lang/zh?next=/")
    chips = browser.locator("#tag-filters a.tag")
    assert {c.inner_text().split()[0] for c in chips.all()} == {"海滩", "日落", "森林"}
    screenshot(browser, "tag-filters")

    with browser.expect_navigation():
        browser.locator("#tag-filters a.tag", has_text="海滩").click()
    assert "tag%3A%E6%B5%B7%E6%BB%A9" in browser.url  # tag:海滩
    assert shown(browser) == [beach]

    browser.goto(page.url + f"/asset/{beach}")
    assert browser.locator("#photo-tags a.tag").all_inner_texts() == ["海滩", "日落"]
    assert browser.locator("#description").inner_text().startswith("2023年8月，海滩，日落")
    with browser.expect_navigation():
        browser.locator("#photo-tags a.tag", has_text="日落").click()
    assert shown(browser) == [beach]
    screenshot(browser, "photo-tags")
