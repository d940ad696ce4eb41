"""The chat page in a real browser (Debian's chromium): a pane per customer, Enter sends, replies appear."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from starlette.applications import Starlette
from starlette.routing import Mount

from integrations.x.sandbox import XSandbox, XSandboxConfig
from tests.integrations.x.sandbox.conftest import ADA, BO
from tests.integrations.x.sandbox.server import ThreadedServer, serve_in_thread

PREFIX = "/x-sandbox"


@pytest.fixture
def sandbox_server() -> Iterator[tuple[XSandbox, ThreadedServer]]:
    sandbox = XSandbox(config=XSandboxConfig(customers=(ADA, BO)))
    with serve_in_thread(Starlette(routes=[Mount(PREFIX, app=sandbox.app)])) as server:
        yield sandbox, server
        server.run(sandbox.aclose())


def _pane(browser: WebDriver, user_id: str) -> WebElement:
    return browser.find_element(By.CSS_SELECTOR, f'.pane[data-customer="{user_id}"]')


def _wait_for(browser: WebDriver, pane: WebElement, selector: str, count: int = 1) -> list[WebElement]:
    WebDriverWait(browser, 5, poll_frequency=0.05).until(
        lambda _: len(pane.find_elements(By.CSS_SELECTOR, selector)) >= count
    )
    return pane.find_elements(By.CSS_SELECTOR, selector)


def test_chatting_as_two_customers(sandbox_server: tuple[XSandbox, ThreadedServer], browser: WebDriver) -> None:
    sandbox, server = sandbox_server
    browser.get(f"{server.base_url}{PREFIX}/chat")
    for customer in (ADA, BO):
        browser.find_element(By.CSS_SELECTOR, f'[data-customer-toggle="{customer.user_id}"]').click()
    ada, bo = _pane(browser, ADA.user_id), _pane(browser, BO.user_id)

    ada_box = ada.find_element(By.CSS_SELECTOR, "textarea")
    ada_box.send_keys('<script>document.title="pwned"</script> where is 2001? 📦')
    ada_box.send_keys(Keys.ENTER)
    long_text = "مرحبا " + "x" * 9_994
    bo_box = bo.find_element(By.CSS_SELECTOR, "textarea")
    browser.execute_script("arguments[0].value = arguments[1]", bo_box, long_text)
    bo_box.send_keys(Keys.ENTER)
    (sent,) = _wait_for(browser, ada, ".message.customer")
    _wait_for(browser, bo, ".message.customer")
    reply = httpx.post(
        f"{server.base_url}{PREFIX}/2/dm_conversations/with/{ADA.user_id}/messages",
        json={"text": "Hi Ada <b>& welcome</b>\nsecond line"},
        headers={"Authorization": "Bearer sandbox-token"},
    ).json()["data"]
    (answer,) = _wait_for(browser, ada, ".message.bot")

    assert [e["text"] for e in sandbox.events()] == [
        '<script>document.title="pwned"</script> where is 2001? 📦',
        long_text,
        "Hi Ada <b>& welcome</b>\nsecond line",
    ]
    assert (
        sent.find_element(By.CSS_SELECTOR, ".text").text == '<script>document.title="pwned"</script> where is 2001? 📦'
    )
    assert browser.title != "pwned"
    assert ada.find_elements(By.CSS_SELECTOR, ".messages script, .messages b") == []
    assert answer.get_attribute("data-event-id") == reply["dm_event_id"]
    assert answer.find_element(By.CSS_SELECTOR, ".text").get_attribute("textContent") == (
        "Hi Ada <b>& welcome</b>\nsecond line"
    )
    assert "Lantern & Loom" in answer.find_element(By.CSS_SELECTOR, ".author").text
    assert answer.find_element(By.CSS_SELECTOR, "time").get_attribute("datetime") == sandbox.events()[2]["created_at"]
    assert bo.find_element(By.CSS_SELECTOR, ".message.customer .text").get_attribute("textContent") == long_text
    assert bo.find_elements(By.CSS_SELECTOR, ".message.bot") == []  # Ada's reply stays in Ada's pane
    assert ada_box.get_attribute("value") == ""

    browser.refresh()  # the open panes and the whole history come back
    ada = _pane(browser, ADA.user_id)
    assert len(_wait_for(browser, ada, ".message", count=2)) == 2
    assert _pane(browser, BO.user_id) is not None
