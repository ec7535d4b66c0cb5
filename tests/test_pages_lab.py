"""The Constant lab page and the Playground's row inspector through Streamlit's AppTest.

AppTest re-detects the legacy ``pages/`` folder mode before every run; both pages call
``ui.ensure_frame()``, which reruns them through app.py (sidebar, URL state) when that happens.
"""

import base64
import json
import math
from pathlib import Path

import numpy as np
import pytest
from apptest_helpers import AppTest   # with Streamlit's Keras clean-up skipped (apptest_helpers)

from maskattn import attention_steps, leaked_mass
from maskattn.pipeline import compute
from maskattn.state import Inputs

TIMEOUT = 60
APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_lab(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/lab.py").run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def figure(at, title_start):
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["layout"].get("title", {}).get("text", "").startswith(title_start):
            return spec
    raise AssertionError(f"no chart titled {title_start!r}")


def decode(a):
    if isinstance(a, dict):
        flat = np.frombuffer(base64.b64decode(a["bdata"]), dtype=np.dtype(a["dtype"]))
        return flat.reshape(tuple(int(n) for n in str(a["shape"]).split(","))) if "shape" in a else flat
    return np.array(a, dtype=float)


def said(at) -> str:
    return " ".join(m.value.replace("\\", "") for m in at.markdown)


def brute_force_leak(logits, mask, constant, dtype):
    """Leaked mass by running attention_steps directly (q = 1, k = the logits)."""
    x = np.asarray(logits, dtype=float)
    w = attention_steps(np.ones((1, 1)), x[:, None], np.zeros((x.size, 1)), np.asarray(mask, float)[None, :],
                        mask_value=constant, dtype=dtype, scale=False).weights
    return float(leaked_mass(w, np.asarray(mask)[None, :])[0])


# --------------------------------------------------------------------------- the lab

def test_lab_defaults_answer_the_seed_question():
    at = open_lab()
    assert at.title[0].value.startswith("Constant lab")
    # default Playground row 0 of "the cat sat <pad> <pad> <pad>", padding mask, -1e9
    assert metrics(at) == {"float16": "NaN", "bfloat16": "exactly 0", "float32": "exactly 0",
                           "float64": "exactly 0"}
    text = said(at)
    assert "float16: NaN at the constant -1e9" in text and "0 × -inf = NaN" in text
    assert "float32: exactly 0 at -1e9" in text and "-103.97" in text


def test_lab_sweep_figure_matches_brute_force():
    at = open_lab()
    fig = figure(at, "Leaked mass vs the constant")
    result = compute(Inputs())
    logits, mask = result.steps.logits[0].astype(float), result.mask[0]
    traces = {t["name"]: t for t in fig["data"] if "name" in t}
    assert {"float16", "bfloat16", "float32", "float64"} <= set(traces)
    x, y = decode(traces["float32"]["x"]), decode(traces["float32"]["y"])
    assert traces["float32"]["yaxis"] == "y"                  # the log band; zero and NaN have their own strips
    assert x[0] == 1.0                                   # the constant -1 comes first
    assert y[0] == pytest.approx(brute_force_leak(logits, mask, -1.0, "float32"), rel=1e-12)
    # exact zeros are drawn on their own strip, NaN on another: nothing is dropped
    zeros = decode(traces["float32: exactly 0"]["x"])
    assert 1e9 in zeros and brute_force_leak(logits, mask, -1e9, "float32") == 0.0
    nans16 = decode(traces["float16: NaN"]["x"])
    assert 1e9 in nans16 and math.isnan(brute_force_leak(logits, mask, -1e9, "float16"))
    # the current constant is highlighted: one big marker per dtype and a red line
    assert "float32 at your constant" in traces
    assert any("your constant -1e9" in a["text"] for a in fig["layout"]["annotations"])


def test_moving_the_lab_constant_moves_the_sidebar_and_the_leak():
    at = open_lab()
    at.select_slider(key="lab_constant").set_value(-1.0).run()
    assert not at.exception
    assert at.session_state["constant"] == "-1"          # the sidebar preset follows
    result = compute(Inputs(constant="-1"))
    expected = brute_force_leak(result.steps.logits[0].astype(float), result.mask[0], -1.0, "float32")
    assert expected > 0
    assert metrics(at)["float32"] == f"{expected:.3g}"
    at.select_slider(key="lab_constant").set_value(-1e30).run()
    assert at.session_state["constant"] == "custom" and at.session_state["custom_constant"] == -1e30
    assert metrics(at)["float32"] == "exactly 0"


def test_typed_scores_reproduce_numerics_md():
    at = open_lab(const="-1")
    at.radio(key="lab_source").set_value("typed").run()
    assert not at.exception
    # default typed row: 3.2, 1.0, -0.5, 2.0 with keys 2 and 3 masked; -1 leaks 0.0074 + 0.0900
    assert metrics(at)["float32"] == "0.0974"
    at.text_input(key="lab_scores_text").input("3.2, 1.0, -2000000, 2.0").run()
    assert not at.exception
    # the very negative real logit leaks nothing; key 3 (2.0 - 1 = 1.0) still does
    expected = math.exp(1.0) / (math.exp(3.2) + 2 * math.exp(1.0))
    assert metrics(at)["float32"] == f"{expected:.3g}"


def test_bad_scores_keep_the_previous_ones_with_a_message():
    at = open_lab()
    at.radio(key="lab_source").set_value("typed").run()
    before = metrics(at)
    at.text_input(key="lab_scores_text").input("1, nan, <b>x</b>").run()
    assert not at.exception
    assert "score 2 is 'nan'" in at.error[0].value and "Kept the previous scores" in at.error[0].value
    assert "<b>" not in at.error[0].value                # user text is escaped
    assert metrics(at) == before


def test_out_of_range_scores_for_float16():
    at = open_lab(dtype="float16")
    at.radio(key="lab_source").set_value("typed").run()
    at.text_input(key="lab_scores_text").input("70000, 1").run()
    assert not at.exception
    assert "outside the float16 range ±65504" in at.error[0].value


def test_method_and_fully_masked_tables():
    at = open_lab()
    tables = [t.value for t in at.table]
    verdicts = tables[0].rename(index=lambda i: i.replace("\\", ""))   # cells are Markdown-escaped
    assert verdicts.loc["add −inf", "leaked mass"] == "NaN"
    assert "not 1" in verdicts.loc["multiply_weights", "verdict"]
    assert verdicts.loc["add", "verdict"].startswith("correct")
    pivot = at.dataframe[-1].value
    assert pivot.loc["safe", "float32"] == "zeros"       # PyTorch SDPA's safe softmax
    assert pivot.loc["add", "float16"] == "NaN"
    assert pivot.loc["add", "float64"] == "unmasked softmax"
    assert pivot.loc["fill", "float32"] == "uniform"


def test_naive_softmax_toggle():
    at = open_lab()
    at.toggle(key="lab_naive").set_value(True).run()
    assert not at.exception
    naive = at.dataframe[-2].value
    assert list(naive["naive weight"]) == ["NaN", "NaN"]     # [100, 90] in float32
    assert list(naive["exp(z)"]) == ["inf", "inf"]


def test_row_without_masked_keys_falls_back_to_the_example():
    at = open_lab(padding="0", const="-1")
    assert not at.exception
    assert any("nothing can leak" in i.value for i in at.info)
    # the example 3.2, 1.0, -0.5, 2.0 with keys 2 and 3 masked: -1 leaks 0.0074 + 0.0900 (NUMERICS.md)
    assert metrics(at)["float32"] == "0.0974"
    assert len(at.get("plotly_chart")) == 2


def test_html_tokens_stay_text():
    at = open_lab(tokens="<img/src=x/onerror=alert(1)> b <pad>")
    fig = figure(at, "weights per method")
    assert fig["data"][0]["x"][0].startswith("0·&lt;img")
    assert all("<img" not in label for label in fig["data"][0]["x"])
    assert at.selectbox(key="lab_row").format_func(0) == "0·<img/src=x/onerror=alert(1)>"   # widget text


# --------------------------------------------------------------------------- row selection

def test_inspector_follows_the_row_selectbox():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.selectbox(key="row").select(2).run()
    assert not at.exception
    result = compute(Inputs())
    table = at.dataframe[0].value                         # the inspector's step table
    assert list(table["key"]) == result.labels
    # every printed weight reads back to exactly the float32 weight of row 2
    shown = [np.float32(float(t)) for t in table["weight"]]
    np.testing.assert_array_equal(shown, result.steps.weights[2])
    assert table["weight"][3:].tolist() == ["0", "0", "0"]
    assert table["masked logit"][3:].tolist() == ["-1e9"] * 3         # spelled as on the heatmaps and in CSV
    assert table["mask term"][3:].tolist() == ["-1e9"] * 3
    np.testing.assert_array_equal(table["with the mask"], result.steps.weights[2].astype(float))   # the bars
    np.testing.assert_array_equal(table["without the mask"], result.unmasked.weights[2].astype(float))
    # the formula (MathML): the heaviest key of row 2 is key 2 ("sat")
    assert any("<msub><mi>w</mi><mrow><mn>2</mn></mrow></msub>" in m.value for m in at.markdown)


def test_inspector_row_from_the_url_and_clamped():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["row"] = "4"
    at.run()
    assert at.selectbox(key="row").value == 4
    at2 = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at2.query_params["row"] = "99"                        # more rows than tokens: back to row 0
    at2.run()
    assert not at2.exception and at2.selectbox(key="row").value == 0


def test_heatmaps_are_clickable_and_the_click_layer_carries_the_hover():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    for title in ("softmax weights", "masked logits z = x + mask × c"):
        fig = figure(at, title)
        layer = next(t for t in fig["data"] if t.get("name") == "select a row")
        assert "%{text}" in layer["hovertemplate"] and "hoverinfo" not in layer
    selectable = [c.proto.id for c in at.get("plotly_chart") if list(c.proto.selection_mode)]
    assert len(selectable) == 4                            # raw logits, mask term, masked logits, weights


def test_row_is_shared_between_the_lab_and_the_playground():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.selectbox(key="row").select(1).run()
    at.switch_page("pages/lab.py").run()
    assert at.selectbox(key="lab_row").value == 1         # the lab starts from the Playground's row
    at.selectbox(key="lab_row").select(2).run()
    at.switch_page("pages/playground.py").run()
    assert not at.exception
    assert at.selectbox(key="row").value == 2             # and hands its choice back


def test_a_link_straight_to_the_lab_goes_through_the_frame():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["dtype"] = "float16"
    at.query_params["const"] = "-1e4"
    at.run()
    at.switch_page("pages/lab.py").run()
    assert not at.exception
    assert at.sidebar.selectbox(key="dtype").value == "float16"
    assert metrics(at)["float16"] == "exactly 0"          # -1e4 fits in float16 and underflows exp


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_zoomed_view_stops_at_the_sweep_for_a_constant_beyond_it(dtype):
    """finfo.min of float64 is -1.8e308: the zoom reaches the sweep's last decade, never past it (regression)."""
    at = open_lab(const="finfo.min", dtype=dtype)
    assert not at.exception, at.exception
    assert at.toggle(key="lab_zoom").value                     # zoomed, to the sweep's last decade
