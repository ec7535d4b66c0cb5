"""axe-core (WCAG 2.0/2.1 A and AA, and axe's best practices) finds nothing on any page, in the states a class shows
(every preset, every Masks and Proof choice); every chart has its own accessible name; and the Playground can be
used with the keyboard alone."""

import sys
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import TIMEOUT_MS, wait_idle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app_pages import app_pages  # noqa: E402

from maskattn.presets import PRESETS  # noqa: E402

RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
SIXTY_FOUR = "%20".join(f"w{i}" for i in range(64))
#: the states a class shows, beyond every page's default
STATES = {"presentation": "?present=1&causal=1", "proof presentation": "proof?present=1",
          "64 tokens": f"?tokens={SIXTY_FOUR}",
          "float16 conventions": "conventions?dtype=float16&causal=1&window=2"}
#: every preset as the Classroom's link opens it: its inputs and its story on the Playground
PRESET_LINKS = {f"preset {p.slug}": p.link for p in PRESETS}
CASES = {page.title: page.url_path for page in app_pages()} | STATES | PRESET_LINKS
#: choices made on a page by clicking, each checked after the click: (page path, what to click)
CHOICES = [("masks", '[data-testid="stMain"] [role="radio"][aria-checked="false"]'),
           ("proof", '[data-testid="stMain"] [data-testid="stRadioGroup"] label:has-text("a future token")')]


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.fixture
def small(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


#: true once every chart on the page has been drawn by Plotly
ALL_DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .every(c => { const el = c.querySelector('.js-plotly-plot'); return el && el._fullData; })"""


def drawn_and_idle(page) -> None:
    """Every chart drawn and the app idle, and still idle a moment later: a page whose widgets settle in a second
    run (the Constant lab's) fades its elements while that run lasts, which axe would read as low contrast."""
    wait_idle(page)
    page.wait_for_function(ALL_DRAWN, timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)
    wait_idle(page)                                   # a second run started in those 300 ms: wait for it too
    page.wait_for_function(ALL_DRAWN, timeout=TIMEOUT_MS)


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('[data-testid="stMain"] h1, [data-testid="stMain"] h2', timeout=TIMEOUT_MS)
    drawn_and_idle(page)


def assert_accessible(page, axe) -> None:
    violations = axe.run(page, options=RULES).response["violations"]
    assert not violations, [(v["id"], len(v["nodes"]), v["nodes"][0]["target"]) for v in violations]
    names = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                                   .map(el => el.getAttribute('aria-label'))""")
    assert all(names) and len(names) == len(set(names)), names


@pytest.mark.parametrize("case", list(CASES))
def test_axe_finds_nothing_and_every_chart_is_named(case, axe, small, app_url):
    open_page(small, f"{app_url}/{CASES[case]}")
    assert_accessible(small, axe)


@pytest.mark.parametrize("path,choice", CHOICES, ids=[c[0] for c in CHOICES])
def test_each_choice_on_masks_and_proof_stays_accessible(path, choice, axe, small, app_url):
    open_page(small, f"{app_url}/{path}")
    main_text = "() => document.querySelector('[data-testid=\"stMain\"]').innerText"
    before = small.evaluate(main_text)
    small.locator(choice).first.click()
    small.wait_for_function(f"(before) => ({main_text})() !== before", arg=before)   # the choice took effect
    drawn_and_idle(small)
    assert_accessible(small, axe)


def focused_name(page) -> str:
    """The accessible name of the focused element, as far as a label, aria-label or text gives it."""
    return page.evaluate("""() => { const e = document.activeElement;
        return (e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].innerText)
                || e.innerText || '').trim(); }""")


def tab_to(page, name: str, limit: int = 80) -> list[str]:
    """Press Tab until the focused element's name starts with ``name``; returns the names passed on the way."""
    passed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        passed.append(focused_name(page))
        if passed[-1].startswith(name):
            return passed
    raise AssertionError(f"Tab never reached {name!r}; it passed {passed}")


def choose_with_arrows(page, presses: int) -> None:
    """Open the focused dropdown with the keyboard, move ``presses`` options down and take it."""
    for _ in range(presses):
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(150)
    page.keyboard.press("Enter")


def settled(page, url_part: str) -> None:
    """Wait until the change reached the URL and the rerun it started has finished."""
    page.wait_for_url(f"**{url_part}**")
    page.wait_for_timeout(300)
    wait_idle(page)


def test_the_playground_with_the_keyboard_alone(small, app_url):
    """Tab reaches the mask switches, the constant, the dtype and the method first, each named; Space and the arrow
    keys change the mask, the constant and the query row, and the URL (so the figures) follows each."""
    open_page(small, app_url)
    walk = tab_to(small, "Causal")
    small.keyboard.press("Space")
    settled(small, "causal=1")
    walk += tab_to(small, "Mask constant", limit=5)
    choose_with_arrows(small, 2)
    settled(small, "const=")
    assert focused_name(small) == "Mask constant"        # focus stays where the user was
    walk += tab_to(small, "Method", limit=5)
    assert all(walk), walk                                # every stop has a name a screen reader reads
    controls = [name for name in walk if not name.startswith("Help for")]
    first = next(i for i, name in enumerate(controls) if name.startswith("Padding mask"))
    assert [n.split(" ")[0] for n in controls[first:]] == ["Padding", "Causal", "Mask", "Number", "Method"], walk
    tab_to(small, "Query row")
    choose_with_arrows(small, 2)
    settled(small, "row=")                               # a later row: the first is the default, kept out of URLs
    assert "causal=1" in small.url and "const=" in small.url
