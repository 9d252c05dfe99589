"""The scorecard HTML in a real headless Chromium, at phone and desktop width.

For each mail (zh-CN owner, en owner, the manager's roll-up) and each width (375 px:
an iframe of width 375 inside a 500 px window, since a headless window cannot be
narrower; 1280 px), a harness page loads the mail into an ``iframe srcdoc`` and a
script measures inside it after load, writing the result into the DOM, which
``chromium --dump-dom`` returns:

* no horizontal overflow: the mail document's scroll width equals its viewport;
* no text column narrower than 4 characters: every td/div holding text is at least as
  wide as the first four characters of that text in its own font (the defect was
  labels squeezed to one character per line: 已/达/档/位).

Screenshots are written to ``$KA_SCREENSHOT_DIR`` (default ``data/screenshots``) as
``<mail>-<width>.png``. Chromium must be installed (``make test`` installs it when
missing and run as root): a missing browser fails this test, it is never skipped.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_scorecard import AS_OF, OCT, seed, seed_analytics

from ka_pipeline.scorecard import build_rollups, build_scorecards, render
from ka_pipeline.warehouse import create_engine, migrate

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
]
SCREENSHOTS = Path(os.environ.get("KA_SCREENSHOT_DIR", "data/screenshots")).resolve()

MEASURE = r"""
<script>
window.addEventListener('load', function () {
  var frame = document.getElementById('mail');
  var doc = frame.contentDocument, win = frame.contentWindow;
  var narrow = [];
  doc.querySelectorAll('td, div').forEach(function (el) {
    var own = '';
    el.childNodes.forEach(function (n) { if (n.nodeType === 3) own += n.textContent; });
    own = own.replace(/\s+/g, ' ').trim();
    if (!own) return;
    var cs = win.getComputedStyle(el);
    var width = el.getBoundingClientRect().width - parseFloat(cs.paddingLeft)
      - parseFloat(cs.paddingRight);
    // the first four characters, laid out in the element's own font on one line
    var probe = doc.createElement('span');
    probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap;padding:0';
    probe.textContent = Array.from(own).slice(0, 4).join('');
    el.appendChild(probe);
    var need = probe.getBoundingClientRect().width;
    el.removeChild(probe);
    if (width + 0.5 < need) narrow.push({text: own.slice(0, 30), width: width, need: need});
  });
  var out = document.createElement('pre');
  out.id = 'result';
  out.textContent = JSON.stringify({
    scrollWidth: doc.documentElement.scrollWidth,
    viewport: doc.documentElement.clientWidth,
    frameWidth: frame.clientWidth,
    narrow: narrow
  });
  document.body.appendChild(out);
});
</script>
"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "chromium is not installed: `apt-get install -y chromium` (make test does it "
            "when run as root); the rendering test needs a real browser"
        )
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    if not fonts.strip():
        pytest.fail(
            "no CJK font: `apt-get install -y fonts-wqy-microhei` (make test does it when run"
            " as root); without one Chinese text has no real width to measure"
        )
    return found


def _standalone(mail) -> str:
    page = mail.html
    for cid, png in mail.inline_images.items():
        page = page.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode())
    return page


def _harness(mail_html: str, width: int) -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head>"
        "<body style='margin:0'>"
        f"<iframe id='mail' width='{width}' height='4000' style='border:0;display:block'"
        f' srcdoc="{html.escape(mail_html, quote=True)}"></iframe>{MEASURE}</body></html>'
    )


@pytest.fixture(scope="module")
def mails(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    engine = create_engine(f"duckdb:///{folder / 'warehouse.duckdb'}")
    migrate(engine)
    seed(engine)
    seed_analytics(engine)
    cards = {c.owner.code: c for c in build_scorecards(engine, "month", OCT, AS_OF)}
    [team] = build_rollups(engine, "month", OCT, AS_OF)
    engine.dispose()
    return {
        "zh": _standalone(render(cards["LN"])),
        "en": _standalone(render(cards["JS"])),
        "rollup": _standalone(render(team)),
    }


def _measure(browser: str, page: Path, width: int) -> dict:
    window = f"--window-size={max(width, 500) + 20},4000"
    dom = subprocess.run(
        [browser, *CHROMIUM_FLAGS, window, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    assert found, f"no measurement in the dumped DOM: {dom[-500:]}"
    return json.loads(html.unescape(found.group(1)))


def test_the_check_catches_a_squeezed_label_and_an_overflow(tmp_path):
    """The detector itself: the 375 px defect (a label column squeezed to one character
    per line by a wide no-wrap value, which also overflows) is reported."""
    bad = (
        "<table width='100%'><tr><td>已达档位</td><td style='white-space:nowrap'>"
        "¥1,234,567,890.00 ¥1,234,567,890.00 ¥1,234,567,890.00</td></tr></table>"
    )
    page = tmp_path / "bad.html"
    page.write_text(_harness(bad, 375), encoding="utf-8")
    result = _measure(chromium(), page, 375)
    assert result["scrollWidth"] > result["viewport"] == 375
    assert [n["text"] for n in result["narrow"]] == ["已达档位"]


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("which", ["zh", "en", "rollup"])
def test_mail_reads_at_phone_and_desktop_width(mails, which, width, tmp_path):
    browser = chromium()
    page = tmp_path / f"{which}-{width}.html"
    page.write_text(_harness(mails[which], width), encoding="utf-8")
    result = _measure(browser, page, width)
    assert result["frameWidth"] == width
    assert result["viewport"] == width
    assert result["scrollWidth"] == result["viewport"], result  # no horizontal overflow
    assert result["narrow"] == [], result["narrow"][:5]  # no column under 4 characters

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{which}-{width}.png"
    subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--window-size={max(width, 500) + 20},4000",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes().startswith(b"\x89PNG")
