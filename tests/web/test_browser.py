"""The search page in a real browser (Debian's chromium, headless, driven by Playwright):
typing a query, dropping an image, opening a photo, retrying a failed one, a query holding
markup, scrolling, the language switch and signing in. Each test saves a screenshot of the
page it ends on under build/test-artifacts/web/."""

from __future__ import annotations

import base64

from tests.support import pictures
from tests.support.database import superuser
from tests.support.pipeline import run_worker
from tests.web.library import INVOICE_TITLE, beach, near_duplicate

PASSWORD = "correct-horse-battery-staple"


def shown(page) -> list[str]:
    """The asset ids of the grid's cards, in order."""
    return page.eval_on_selector_all("#grid .card", "cards => cards.map(c => c.dataset.asset)")


def test_typing_a_chinese_query_shows_the_right_photo_first(site, browser, screenshot, assets):
    browser.goto(site.url)
    browser.fill("input[name=q]", "停车场")
    browser.press("input[name=q]", "Enter")
    browser.wait_for_selector("#query-echo")
    assert browser.inner_text("#query-echo") == "停车场"
    assert shown(browser)[0] == assets["sign.png"]
    screenshot(browser, "search")
    assert browser.script_errors == []


def test_ocr_search_lists_the_invoice_first_and_not_the_sign(site, browser, screenshot, assets):
    browser.goto(site.url + "/?q=ocr:发票")
    found = shown(browser)
    assert found[0] == assets["invoice.png"]
    assert assets["sign.png"] not in found
    first = browser.locator("#grid .card").first
    assert first.locator("mark").inner_text() == "发票"
    assert first.locator(".arm.text").inner_text() == "text #1"
    screenshot(browser, "ocr-search")


def test_opening_a_photo_shows_its_text(site, browser, screenshot, assets):
    browser.goto(site.url + "/?q=ocr:发票")
    browser.locator("#grid .card a.thumb").first.click()
    browser.wait_for_url(f"**/asset/{assets['invoice.png']}")
    lines = browser.locator(".ocr-lines li")
    assert INVOICE_TITLE in lines.first.inner_text()
    assert browser.locator("polygon.ocr-box").count() == lines.count()
    lines.first.hover()
    assert "lit" in browser.locator('polygon.ocr-box[data-line="0"]').get_attribute("class")
    assert browser.evaluate("document.getElementById('photo').naturalWidth") > 0
    screenshot(browser, "photo")


def test_dropping_an_image_shows_its_near_duplicate_first(site, browser, screenshot, assets):
    browser.goto(site.url)
    data = base64.b64encode(near_duplicate(beach())).decode()
    transfer = browser.evaluate_handle(
        """data => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "from-a-chat.jpg", {type: "image/jpeg"}));
            return transfer;
        }""",
        data,
    )
    browser.dispatch_event("main", "dragenter", {"dataTransfer": transfer})
    assert browser.is_visible("#drop-overlay")
    with browser.expect_navigation():
        browser.dispatch_event("main", "drop", {"dataTransfer": transfer})
    assert browser.url.endswith("/search/image")
    assert shown(browser)[0] == assets["beach.jpg"]
    assert browser.is_visible("img.upload-preview")
    screenshot(browser, "search-by-image")


def test_retrying_a_failed_photo_from_status_works(
    analysed, serve, browser, screenshot, web_library, assets
):
    path = web_library / "retry" / "late.png"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(pictures.truncated_jpeg())
    with superuser(analysed) as conn:
        asset = str(
            conn.execute(
                "INSERT INTO photo_ai.asset (original_path) VALUES (%s) RETURNING id", [str(path)]
            ).fetchone()[0]
        )
    run_worker(analysed)  # it fails: the file is cut short
    pictures.text_picture(("迟到的发票", "Late invoice")).save(path)  # now the file is whole
    page = serve(analysed)
    browser.goto(page.url + "/status")
    row = browser.locator(f'tr.failure[data-asset="{asset}"]')
    assert "bad_image" in row.inner_text()
    with browser.expect_navigation():
        row.locator("button.retry").click()
    outcome = browser.locator("#retried li")
    assert outcome.count() == 3, browser.inner_text("#retried")
    for i in range(3):
        assert outcome.nth(i).get_attribute("class") == "job done", browser.inner_text("#retried")
    assert browser.locator(f'tr.failure[data-asset="{asset}"]').count() == 0
    assert browser.locator(f'tr.failure[data-asset="{assets["broken.jpg"]}"]').count() == 1
    screenshot(browser, "status")
    browser.goto(page.url + "/?q=ocr:迟到")
    assert shown(browser) == [asset]


def test_a_query_holding_markup_appears_as_text(site, browser, screenshot):
    query = "<img src=x onerror=alert(document.domain)> 发票"
    dialogs: list[str] = []
    browser.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    browser.goto(site.url)
    browser.fill("input[name=q]", query)
    browser.press("input[name=q]", "Enter")
    browser.wait_for_selector("#query-echo")
    assert browser.inner_text("#query-echo") == query
    assert browser.input_value("input[name=q]") == query
    assert browser.locator('img[src="x"]').count() == 0
    browser.wait_for_timeout(300)  # an onerror would have fired by now
    assert dialogs == []
    screenshot(browser, "markup-query")


def test_more_results_load_as_you_scroll(analysed, serve, browser, assets):
    """Two photos a page: the rest come as the end of the grid comes into sight."""
    page = serve(analysed, page_size=2)
    browser.set_viewport_size({"width": 1280, "height": 400})
    browser.goto(page.url)
    for _ in range(20):
        if len(shown(browser)) == len(assets):
            break
        browser.mouse.wheel(0, 2000)
        browser.wait_for_timeout(200)
    assert sorted(shown(browser)) == sorted(assets.values())  # every one, once
    assert browser.locator("#more").count() == 0


def test_the_page_switches_to_chinese(site, browser, screenshot, assets):
    browser.goto(site.url + "/?q=ocr:发票")
    browser.click("text=中文")
    browser.wait_for_selector("html[lang=zh-CN]")
    assert browser.inner_text(".arm.text >> nth=0") == "文字 #1"
    assert shown(browser)[0] == assets["invoice.png"]
    screenshot(browser, "chinese")
    browser.goto(site.url + "/status")
    assert "失败的照片" in browser.inner_text("#failed")
    screenshot(browser, "status-chinese")


def test_signing_in_with_the_password(analysed, serve, browser, screenshot):
    page = serve(analysed, password=PASSWORD)
    browser.goto(page.url + "/?q=ocr:发票")
    assert "/login" in browser.url
    screenshot(browser, "sign-in")
    browser.fill("input[name=password]", PASSWORD)
    with browser.expect_navigation():
        browser.click("form.login button")
    assert browser.inner_text("#query-echo") == "ocr:发票"
