"""The Playground through Streamlit's AppTest: defaults, toggles, dtypes and bad input."""

import json

import numpy as np
import pytest
from apptest_helpers import AppTest   # with Streamlit's Keras clean-up skipped (apptest_helpers)

from apptest_helpers import chart, decode, fresh

from maskattn.pipeline import compute
from maskattn.state import Inputs

# AppTest quirk (Streamlit 1.67 + st.navigation): after the first run the tree no longer holds the
# frame's sidebar widgets (they still work in a browser: tests/browser checks that). So each test
# interacts with the sidebar once, starting from the URL, which also exercises the URL -> state path.
def run_app(**query) -> AppTest:
    return fresh(**query).run()


def said(at) -> str:
    """All markdown on the page with the markdown escapes removed."""
    return " ".join(m.value.replace("\\", "") for m in at.markdown)


def widget(at, label_start, kind):
    for w in getattr(at.sidebar, kind):
        if w.label.startswith(label_start):
            return w
    raise AssertionError(f"no {kind} labelled {label_start!r}")


def test_defaults_render_without_exception():
    at = run_app()
    assert not at.exception
    titles = {json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")}
    assert {"mask (1 = blocked)", "raw logits x = q·kᵀ/√d", "mask term: mask × (-1e9)",
            "masked logits z = x + mask × c", "softmax weights"} == titles            # the output waits in its expander
    at.session_state["open_output"] = True
    at.run()
    assert "output = weights @ v" in {json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")}
    weights = decode(chart(at, "softmax weights")["data"][0]["z"])
    np.testing.assert_array_equal(weights, compute(Inputs()).steps.weights)
    assert "exactly 0" in said(at)


def test_toggling_causal_changes_the_weights():
    at = run_app()
    before = decode(chart(at, "softmax weights")["data"][0]["z"])
    widget(at, "Causal", "toggle").set_value(True)
    at.run()
    assert not at.exception
    after = decode(chart(at, "softmax weights")["data"][0]["z"])
    assert not np.array_equal(before, after)
    assert np.all(np.triu(after, 1) == 0)


def test_float16_shows_nan_and_explains_it():
    at = run_app()
    widget(at, "Number type", "selectbox").set_value("float16")
    at.run()
    assert not at.exception
    weights = decode(chart(at, "softmax weights")["data"][0]["z"])
    assert np.isnan(weights).all()
    assert "0 x -inf = NaN" in said(at)


def test_empty_text_gives_a_message_and_the_example_back():
    at = run_app()
    widget(at, "Token sequences", "text_area").set_value("   ")
    at.run()
    assert not at.exception
    assert any("no tokens" in e.value for e in at.error)
    at.button[0].click()
    at.run()
    assert not at.error and at.get("plotly_chart")


def test_huge_input_is_capped_with_a_notice():
    at = run_app()
    widget(at, "Token sequences", "text_area").set_value(" ".join(["tok"] * 5000))
    at.run(timeout=60)
    assert not at.exception
    assert any("cut to the first 256" in i.value for i in at.info)


def test_html_in_tokens_is_text():
    at = run_app()
    widget(at, "Token sequences", "text_area").set_value("<b>bold</b> <script>alert(1)</script>\nok")
    at.run()
    assert not at.exception
    for m in at.markdown:
        assert "<script>" not in m.value and "<b>" not in m.value      # escaped for markdown
    spec = chart(at, "softmax weights")
    assert spec["data"][0]["x"][0].startswith("0·&lt;b&gt;")


def test_custom_constant_is_read_from_the_text_box():
    at = run_app(const="custom")
    widget(at, "Custom constant", "text_input").input("-10")
    at.run()
    assert not at.exception
    assert at.session_state["custom_constant"] == -10.0
    assert "leaks" in said(at)


def test_custom_constant_nan_keeps_previous_value():
    at = run_app(const="custom", value="-10")
    widget(at, "Custom constant", "text_input").input("nan")
    at.run()
    assert not at.exception
    assert at.session_state["custom_constant"] == -10.0
    # the message is drawn under the text box (the sidebar is not in AppTest's tree after a rerun)
    assert "Kept the previous value -10.0" in at.session_state["_custom_error"]
    assert "'nan'" in at.session_state["_custom_error"]


def test_positive_constant_is_allowed_but_flagged():
    at = run_app(const="custom", value="5")
    assert not at.exception
    assert "positive" in said(at)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("method", ["add", "fill", "safe"])
def test_every_dtype_and_method_renders(dtype, method):
    at = run_app(dtype=dtype, method=method, qpad="1", causal="1")
    assert not at.exception
    assert len(at.get("plotly_chart")) >= 5


def test_tampered_url_shows_a_notice_and_defaults():
    at = run_app(dtype="float99", seed="-4", d="3")
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "dtype='float99'" in warnings and "seed='-4'" in warnings and "d='3'" in warnings
    assert widget(at, "Number type", "selectbox").value == "float32"


def test_closed_expanders_build_nothing_and_open_ones_build_their_content():
    at = run_app(causal="1")
    labels = [e.label for e in at.expander]
    assert any(label.startswith("Every matrix as a table") for label in labels)
    assert "The library function behind this page" in labels
    assert not at.get("download_button") and not at.code       # closed: nothing built, nothing sent
    at.session_state["open_downloads"] = True                   # what a click on the expander does
    at.session_state["open_library"] = True
    at.run()
    assert not at.exception
    assert [b.label for b in at.get("download_button")] == [
        "mask (CSV)", "raw logits (CSV)", "mask term (CSV)", "masked logits (CSV)", "weights (CSV)",
        "output (CSV)", "state + results (JSON)"]
    assert "def attention_steps(" in at.code[0].value


def test_every_matrix_as_a_table_on_request():
    at = run_app(causal="1")
    at.session_state["open_downloads"] = True
    at.run()
    before = len(at.dataframe)
    next(t for t in at.toggle if t.label.startswith("Show the tables")).set_value(True)
    at.run()
    assert not at.exception
    tables = at.dataframe[before:]
    assert len(tables) == 6                               # mask, logits, mask term, masked logits, weights, output
    r = compute(Inputs(causal=True))
    weights = tables[4].value
    assert list(weights.columns) == r.labels and list(weights.index) == r.labels
    np.testing.assert_array_equal(weights.to_numpy(), r.steps.weights.astype(float))



def test_the_minus_zero_of_the_mask_term_is_explained_where_it_shows():
    at = fresh().run()
    assert any(c.value.startswith("−0 in the mask term is 0 × (-1e9)") for c in at.caption)
    at = fresh(method="fill").run()                        # a fill multiplies nothing: no −0
    assert not any(c.value.startswith("−0 in the mask term") for c in at.caption)


def _row_outlined(at) -> dict[str, bool]:
    """Each stage panel's title → whether it carries the inspector's row outline (two rectangle shapes)."""
    out = {}
    for c in at.get("plotly_chart"):
        layout = json.loads(c.proto.spec)["layout"]
        out[layout["title"]["text"]] = any(s.get("type") == "rect" for s in layout.get("shapes", []))
    return out


def test_the_row_is_outlined_at_the_desk_but_not_on_a_slide():
    """The pink row outline points at the inspector; a slide's camera PNG goes into a lecture without it."""
    desk, slide = _row_outlined(run_app(row="2")), _row_outlined(run_app(row="2", present="1"))
    assert desk["softmax weights"] and desk["masked logits z = x + mask × c"]
    assert slide["softmax weights"] is False and slide["masked logits z = x + mask × c"] is False
