"""``make run``: a real ``dmcare serve`` process on the X sandbox, and a person chatting in a browser.

The customer's words go from the page to the X sandbox, which delivers them to the bot's webhook
signed as X signs them; the bot answers through tweepy over HTTP; the page shows the answer.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

DMCARE = Path(sys.executable).with_name("dmcare")
LIAM, FANG = "1500000002", "1500000004"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DMCARE_")}
    process = subprocess.Popen(
        [str(DMCARE), "serve", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'dmcare.db'}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dmcare serve did not start: {process.communicate()}")
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=20)
        assert process.returncode == 0, errors
        assert "Traceback" not in errors


def pane(browser: WebDriver, user_id: str) -> WebElement:
    return browser.find_element(By.CSS_SELECTOR, f'.pane[data-customer="{user_id}"]')


def bot_lines(browser: WebDriver, user_id: str, count: int) -> list[str]:
    selector = ".message.bot .text"
    WebDriverWait(browser, 15, poll_frequency=0.1).until(
        lambda _: len(pane(browser, user_id).find_elements(By.CSS_SELECTOR, selector)) >= count
    )
    return [
        element.get_attribute("textContent") or ""
        for element in pane(browser, user_id).find_elements(By.CSS_SELECTOR, selector)
    ]


def say(browser: WebDriver, user_id: str, text: str) -> None:
    box = pane(browser, user_id).find_element(By.CSS_SELECTOR, "textarea")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def test_a_person_chats_as_two_customers_and_the_bot_answers_each(served: str, browser: WebDriver) -> None:
    browser.get(served + "/")  # redirected to the sandbox's chat page
    for customer in (LIAM, FANG):
        browser.find_element(By.CSS_SELECTOR, f'[data-customer-toggle="{customer}"]').click()

    say(browser, LIAM, "Hi, my parcel is late and I needed it this weekend")
    say(browser, FANG, "你好，我的包裹还没到")
    assert "order number" in bot_lines(browser, LIAM, 1)[0]
    assert "订单号" in bot_lines(browser, FANG, 1)[0]

    say(browser, LIAM, "order 1002")
    offer = bot_lines(browser, LIAM, 2)[-1]
    assert "300 points" in offer and "2 days late" in offer
    assert len(bot_lines(browser, FANG, 1)) == 1  # Liam's answers never land in Fang's pane

    health = httpx.get(f"{served}/healthz").json()
    assert health == {"status": "ok", "worker": "running", "x": "sandbox"}
