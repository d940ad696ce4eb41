"""The ``dmcare`` command as a person or a script uses it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DMCARE = Path(sys.executable).with_name("dmcare")


def _chat(tmp_path: Path, lines: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DMCARE), "chat", "--db", f"sqlite:///{tmp_path / 'chat.db'}", *extra],
        input=lines, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_scripted_chat_with_trace(tmp_path: Path) -> None:
    done = _chat(tmp_path, "my parcel is late\n#1002\nyes\n5\n", "--as", "liam_oc", "--trace")
    assert done.returncode == 0, done.stderr
    replies = [line for line in done.stdout.splitlines() if line.startswith("shop> ")]
    assert len(replies) == 5  # one DM per bot turn; the order number brings "looking" and then the offer
    assert "300 points are now in your account" in done.stdout
    records = [json.loads(line) for line in done.stderr.splitlines()]
    transitions = [r for r in records if r["type"] == "transition"]
    commands = [r for r in records if r["type"] == "command"]
    assert [(t["source"], t["target"]) for t in transitions if t["event"] == "message"] == [
        ("acknowledge", "collect_order"), ("collect_order", "lookup"),
        ("offer_compensation", "confirm_dispatch"), ("request_feedback", "closed"),
    ]  # fmt: skip
    assert {"send_reply", "lookup_order", "lookup_tracking", "issue_compensation"} <= {c["kind"] for c in commands}
    assert all(c["status"] == "done" for c in commands)


def test_chinese_customer_from_custom_demo_data(tmp_path: Path) -> None:
    shop = tmp_path / "shop.yaml"
    shop.write_text(
        "shop: {name: 小店, currency: CNY}\n"
        'customers: [{id: a, x_user_id: "42", handle: xiaoming, name: 小明, tier: vip}]\n'
        'orders: [{number: "8801", customer: a, value: 199, placed: today-9, promised: today-2,'
        " shipments: [{carrier: ems, tracking_number: EA618392048CN, status: in_transit,"
        " estimated_delivery: today}]}]\n",
        encoding="utf-8",
    )
    done = _chat(tmp_path, "你好,订单8801还没到\n", "--data", str(shop))
    assert done.returncode == 0, done.stderr
    assert "#8801" in done.stdout and "500 积分" in done.stdout


def test_unknown_customer_handle_is_a_clear_error(tmp_path: Path) -> None:
    done = _chat(tmp_path, "", "--as", "nobody_here")
    assert done.returncode == 2
    assert "no demo customer @nobody_here" in done.stderr


def test_broken_demo_data_names_the_field(tmp_path: Path) -> None:
    shop = tmp_path / "shop.yaml"
    shop.write_text("shop: {name: x, currency: USD}\ncustomers: []\norders: [{number: '1'}]\n", encoding="utf-8")
    done = _chat(tmp_path, "", "--data", str(shop))
    assert done.returncode == 2
    assert "orders[0]" in done.stderr and "Traceback" not in done.stderr


def test_switching_customer_mid_session(tmp_path: Path) -> None:
    done = _chat(tmp_path, "/as @wangfang_sh\nmy order 1004 is late\n/as nobody\n")
    assert done.returncode == 0, done.stderr
    assert "(you are now @wangfang_sh)" in done.stdout
    assert "500 points" in done.stdout  # Fang's own VIP order, not an ownership hand-over
    assert "(no demo customer @nobody" in done.stdout
