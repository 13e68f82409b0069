"""The People view: round faces, naming in place, merging, a person's photos, and person:
searches from the page, in Debian's chromium. The faces come through the real pipeline
(a stand-in answers the faces task with known identities)."""

from __future__ import annotations

import pytest

from tests.support.database import superuser
from tests.support.people import family as grouped_family


@pytest.fixture
def family(analysed, tmp_path):
    """Three people's photos added to a clone of the analysed library, grouped: the database
    name, the folder of the photos, and each person's asset ids."""
    folder = tmp_path / "family"
    with superuser(analysed) as conn:
        assets, _ = grouped_family(conn, folder)
        persons = {}
        for asset in assets:
            person = conn.execute(
                "SELECT person_id::text FROM photo_ai.face WHERE asset_id = %s", [asset]
            ).fetchone()[0]
            persons.setdefault(person, []).append(asset)
    assert None not in persons and len(persons) == 3
    return analysed, folder, persons


def shown(browser) -> list[str]:
    return [c.get_attribute("data-asset") for c in browser.locator("#grid figure.card").all()]


def test_people_are_named_in_place_and_found_by_name(family, serve, browser, screenshot):
    database, folder, persons = family
    page = serve(database, [folder])
    browser.goto(page.url + "/people")
    mum = max(persons, key=lambda p: len(persons[p]))
    card = browser.locator(f'figure.person[data-person="{mum}"]')
    face = page.get(f"/people/{mum}/face")
    assert face.status_code == 200 and face.headers["content-type"] == "image/jpeg"
    assert card.locator("a.face img").evaluate("img => img.complete && img.naturalWidth") == 160
    assert browser.locator("figure.person").count() >= 3

    with browser.expect_navigation():
        card.locator("input[name=name]").fill("妈妈")
        card.locator("input[name=name]").press("Enter")
    assert browser.url.endswith("/people")
    assert (
        browser.locator(f'figure.person[data-person="{mum}"] input[name=name]').input_value()
        == "妈妈"
    )
    screenshot(browser, "people")

    browser.goto(page.url + "/?q=person:妈妈")
    assert sorted(shown(browser)) == sorted(persons[mum])
    with superuser(database) as conn:
        assert (
            conn.execute("SELECT name FROM photo_ai.person WHERE id = %s", [mum]).fetchone()[0]
            == "妈妈"
        )


def test_a_person_page_lists_their_photos_and_merges_into_another(
    family, serve, browser, screenshot
):
    database, folder, persons = family
    keep, merge = sorted(persons, key=lambda p: len(persons[p]))[:2]
    page = serve(database, [folder])
    browser.goto(page.url + f"/people/{merge}")
    assert sorted(shown(browser)) == sorted(persons[merge])
    screenshot(browser, "person")

    with browser.expect_navigation():
        browser.select_option("form.merge-form select[name=into]", keep)
        browser.click("form.merge-form button")
    assert browser.url.endswith(f"/people/{keep}")
    assert sorted(shown(browser)) == sorted(persons[keep] + persons[merge])
    assert page.get(f"/people/{merge}").status_code == 404


def test_naming_needs_an_admin_login(family, serve, reader_login):
    database, folder, persons = family
    page = serve(reader_login(database), [folder])
    with page.client() as client:
        people = client.get("/people")
        assert people.status_code == 200
        csrf = people.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = client.post(f"/people/{next(iter(persons))}/name",
                             data={"csrf_token": csrf, "name": "x"})  # fmt: skip
    assert answer.status_code == 403
