"""The search page over HTTP: search, the timeline, a photo's page, ids that are not photos,
what the page says when nothing is found or search by meaning is off, filters, more results
as you scroll, and the two languages."""

from __future__ import annotations

import http.client
import io
import re
import string
from urllib.parse import urlsplit

import httpx
import pytest

from photo_ai_web.i18n import MESSAGES
from tests.support.database import superuser
from tests.support.pipeline import point_at
from tests.web.library import INVOICE_TITLE, beach, cards


def get(page, path: str, params: dict | None = None, **headers) -> httpx.Response:
    return page.get(path, params=params, headers=headers)


def test_ocr_search_lists_the_invoice_first_and_not_the_sign(site, assets):
    response = get(site, "/?q=ocr:发票")
    assert response.status_code == 200
    found = cards(response.text)
    assert found[0] == assets["invoice.png"]
    assert assets["sign.png"] not in found


def test_a_hit_says_which_arm_found_it_and_marks_the_matched_text(site, assets):
    html = get(site, "/?q=ocr:发票").text
    invoice = html[html.index(f'data-asset="{assets["invoice.png"]}"') :]
    invoice = invoice[: invoice.index("</figure>")]
    assert "text #1" in invoice
    assert "<mark>发票</mark>" in invoice
    assert "meaning #" not in invoice  # ocr: asks the text alone


def test_a_chinese_query_without_prefix_puts_the_sign_first(site, assets):
    found = cards(get(site, "/?q=停车场").text)
    assert found[0] == assets["sign.png"]


def test_the_photo_page_shows_its_text_with_boxes(site, assets):
    response = get(site, f"/asset/{assets['invoice.png']}")
    assert response.status_code == 200
    assert INVOICE_TITLE in response.text
    lines = response.text.split('<ol class="ocr-lines">', 1)[1].split("</ol>", 1)[0]
    assert INVOICE_TITLE in lines
    assert response.text.count('class="ocr-box"') >= 2  # one box per recognised line
    assert 'id="analyse-again"' in response.text  # the cluster's superuser is an admin


def test_the_photo_page_shows_similar_photos(site, assets):
    html = get(site, f"/asset/{assets['beach.jpg']}").text
    strip = html.split('id="similar"', 1)[1]
    similar = cards(strip)
    assert similar and assets["beach.jpg"] not in similar
    assert "alike" in strip


def test_a_broken_photo_page_says_why_it_cannot_be_shown(site, assets):
    html = get(site, f"/asset/{assets['broken.jpg']}").text
    assert 'id="photo-unavailable"' in html
    assert "failed" in html.split('id="photo-jobs"', 1)[1]


def test_an_unknown_id_is_not_found(site):
    response = get(site, "/asset/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "No photo with this id" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/asset/not-a-photo",
        "/asset/..%2F..%2Fetc%2Fpasswd",
        "/asset/%2Fetc%2Fpasswd",
        "/asset/../../etc/passwd",
        "/thumb/..%2F..%2Fetc%2Fpasswd",
        "/thumb/%2Fetc%2Fpasswd",
        "/preview/../../../etc/passwd",
        "/thumb/00000000-0000-4000-8000-000000000000/../../etc/passwd",
    ],
)
def test_a_path_like_id_is_refused(site, path):
    """Sent as written (no client normalises the dots away)."""
    address = urlsplit(site.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode(errors="replace")
    connection.close()
    assert 400 <= response.status < 500
    assert "root:" not in body


def test_a_query_holding_markup_is_text(site):
    query = "<img src=x onerror=alert(1)>"
    html = get(site, "/", {"q": query}).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html


def test_no_results_say_what_to_try(site):
    html = get(site, "/?q=ocr:喵星人").text
    assert cards(html) == []
    assert 'id="no-results"' in html
    assert "fewer words" in html


def test_an_empty_library_says_how_to_import(database, serve):
    html = get(serve(database), "/").text
    assert 'id="empty-library"' in html
    assert "photo-ai import" in html


def test_without_clip_the_page_says_meaning_is_off_and_how_to_turn_it_on(
    analysed, modelless_sidecar, serve, assets
):
    with superuser(analysed) as conn:
        point_at(conn, modelless_sidecar)
    html = get(serve(analysed), "/?q=停车场").text
    assert cards(html)[0] == assets["sign.png"]  # the text arm still answers
    notice = html.split('id="semantic-off"', 1)[1].split("</aside>", 1)[0]
    assert "Search by meaning is off" in notice
    assert "CLIP model is missing" in notice
    assert "clip_cn_vit-b-16.pt" in notice


def test_the_timeline_lists_every_photo_newest_first(site, assets):
    html = get(site, "/").text
    assert sorted(cards(html)) == sorted(assets.values())
    assert 'id="tips"' in html and "ocr:发票" in html


def test_dates_filter_search_and_timeline(site, assets):
    assert cards(get(site, "/?after=2999-01-01").text) == []
    assert cards(get(site, "/?q=ocr:发票&after=2999-01-01").text) == []
    assert cards(get(site, "/?q=ocr:发票&before=2999-12-31").text)[0] == assets["invoice.png"]
    html = get(site, "/?q=ocr:发票&after=not-a-date").text  # ignored, not an error
    assert cards(html)[0] == assets["invoice.png"]


def test_the_owner_filter_appears_for_several_owners(analysed, serve, assets):
    alice, bob = "a11ce000-0000-4000-8000-000000000000", "b0b00000-0000-4000-8000-000000000000"
    with superuser(analysed) as conn:
        conn.execute("UPDATE photo_ai.asset SET owner_id = %s", [alice])
        conn.execute(
            "UPDATE photo_ai.asset SET owner_id = %s WHERE id = %s", [bob, assets["sign.png"]]
        )
    page = serve(analysed)
    html = get(page, "/").text
    assert f'<option value="{bob}"' in html
    assert cards(get(page, f"/?owner={bob}").text) == [assets["sign.png"]]
    assert assets["sign.png"] not in cards(get(page, f"/?q=停车场&owner={alice}").text)


def test_more_results_come_as_you_scroll(analysed, serve, assets):
    page = serve(analysed, page_size=2)
    html = get(page, "/").text
    seen = cards(html)
    assert len(seen) == 2
    while 'id="more"' in html:
        next_url = html.split('data-next="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        html = get(page, next_url).text
        seen += cards(html)
    assert sorted(seen) == sorted(assets.values())  # each once


def test_the_language_follows_the_browser_and_the_switch(site):
    chinese = get(site, "/", **{"accept-language": "zh-CN,zh;q=0.9,en;q=0.5"}).text
    assert '<html lang="zh-CN">' in chinese and "搜索" in chinese
    english = get(site, "/", **{"accept-language": "en-GB,en;q=0.9"}).text
    assert '<html lang="en">' in english and "Search" in english
    switched = site.get("/lang/zh?next=/status")
    assert switched.status_code == 303 and switched.headers["location"] == "/status"
    assert get(site, "/", cookie="lang=zh", **{"accept-language": "en"}).text.count("搜索") > 0


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_the_language_switch_never_leads_to_another_site(site, target):
    response = site.get("/lang/en", params={"next": target})
    assert response.headers["location"] == "/"


def test_every_message_exists_in_both_languages():
    for key, (english, chinese) in MESSAGES.items():
        assert english and chinese, key
        assert _fields(english) == _fields(chinese), key


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_a_very_long_query_is_cut_not_refused(site, assets):
    response = get(site, "/", {"q": "ocr:发票 " + "很长" * 400})
    assert response.status_code == 200
    assert 'id="no-results"' in response.text


def test_search_by_image_without_clip_says_why(analysed, modelless_sidecar, serve):
    with superuser(analysed) as conn:
        point_at(conn, modelless_sidecar)
    page = serve(analysed)
    with page.client() as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
        empty = client.post("/search/image", data={"csrf_token": token})
        assert empty.status_code == 400 and "No image was given" in empty.text
        picture = io.BytesIO()
        beach().save(picture, "JPEG")
        html = client.post(
            "/search/image",
            data={"csrf_token": token},
            files={"image": ("beach.jpg", picture.getvalue(), "image/jpeg")},
        ).text
    notice = html.split('id="search-error"', 1)[1].split("</aside>", 1)[0]
    assert "Search by image failed" in notice and "model" in notice
    assert cards(html) == []
