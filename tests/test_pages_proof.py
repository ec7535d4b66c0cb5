"""The Proof page through Streamlit's AppTest: every section for the classic states, its numbers
against the core's, the leak test's controls, and refused perturbations.

The expectations come from ``maskattn.proof`` called directly with the state's own arrays, so
the page is checked to show the core's numbers, not numbers of its own.
"""

import json

import numpy as np
import pytest
from apptest_helpers import AppTest   # with Streamlit's Keras clean-up skipped (apptest_helpers)

from apptest_helpers import decode, fresh

from maskattn import proof
from maskattn.pipeline import compute
from maskattn.state import Inputs
from maskattn.text import spell
from maskattn.ui import Key, md_escape

PAGE = "pages/proof.py"
SECTIONS = ("1 · Delete the columns", "2 · Exact vs float", "3 · The leak test", "4 · The backward pass")
#: URL parameters -> the Inputs they stand for (the sidebar's state of each case)
STATES = {
    "default": ({}, Inputs()),
    "float16": ({"dtype": "float16"}, Inputs(dtype="float16")),
    "bfloat16": ({"dtype": "bfloat16"}, Inputs(dtype="bfloat16")),
    "float64": ({"dtype": "float64"}, Inputs(dtype="float64")),
    "constant -10": ({"const": "-10"}, Inputs(constant="-10")),
    "-inf": ({"const": "-inf"}, Inputs(constant="-inf")),
    "fully masked rows": ({"qpad": "1"}, Inputs(mask_queries=True)),
    "fill -inf, fully masked rows": ({"qpad": "1", "const": "-inf", "method": "fill"},
                                     Inputs(mask_queries=True, constant="-inf", method="fill")),
    "causal": ({"causal": "1"}, Inputs(causal=True)),
}


# AppTest quirk (see test_pages_playground.py): the frame's sidebar widgets leave the tree after the first
# run, so the sidebar's state comes from the URL and the page's own widgets are driven directly.
def open_proof(widgets=None, **query) -> AppTest:
    at = fresh(**query).run()
    for key, value in (widgets or {}).items():
        at.session_state[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def charts(at) -> dict:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {s["layout"]["title"]["text"]: s for s in specs}


def chart_z(at, title_start: str) -> np.ndarray:
    (spec,) = [s for title, s in charts(at).items() if title.startswith(title_start)]
    return decode(spec["data"][0]["z"])


def same(drawn: np.ndarray, expected) -> None:
    """The drawn array is the expected one exactly (every dtype's values fit the float32/float64 sent)."""
    np.testing.assert_array_equal(drawn.astype(np.float64), np.asarray(expected).astype(np.float64))


def said(at) -> str:
    """Markdown, alerts and captions, markdown escapes removed."""
    parts = [m.value for m in at.markdown] + [a.value for a in (*at.success, *at.error, *at.warning, *at.info)]
    return " ".join(parts + [c.value for c in at.caption]).replace("\\", "")


def core(inputs: Inputs, *, token=None, amount=1e6, seed=0):
    """Every proof for ``inputs``, computed straight from the core."""
    r = compute(inputs)
    mask = r.mask if r.has_mask else None
    options = dict(mask_value=inputs.mask_value, dtype=inputs.dtype, method=inputs.method, scale=inputs.scale)
    return dict(
        result=r,
        deleted=proof.delete_masked_keys(r.steps.logits, mask, **{k: v for k, v in options.items() if k != "scale"}),
        row=proof.exact_vs_float_row(r.steps, 0),
        leak=proof.leak_test_tokens(list(r.tokens), mask, positions=None if token is None else [token],
                                    amount=amount, rng=seed, **options),
        grads=proof.attention_grads(r.q, r.k, r.v, mask, d_output=np.ones(r.steps.output.shape), **options))


@pytest.mark.parametrize("name", list(STATES))
def test_every_section_renders_and_quotes_the_core(name):
    query, inputs = STATES[name]
    at = open_proof(**query)
    assert [h.value for h in at.header if h.value[0].isdigit()] == [
        next(h.value for h in at.header if h.value.startswith(s)) for s in SECTIONS]
    c = core(inputs)
    labels = c["result"].labels
    text = said(at)
    for takeaway in (c["deleted"].takeaway(labels), c["row"].takeaway(labels), c["leak"].takeaway(),
                     c["grads"].takeaway(labels)):
        assert takeaway in text, takeaway
    titles = charts(at)
    assert len(titles) == 7, list(titles)
    # the arrays drawn are the core's, bit for bit (NaN where the core has NaN)
    deleted, grads = c["deleted"], c["grads"]
    same(chart_z(at, "masked softmax"), deleted.weights)
    same(chart_z(at, "softmax of the unmasked keys alone"), deleted.deleted)
    drawn = chart_z(at, "∂L/∂logits")
    special = ~np.isfinite(grads.dlogits.astype(float))            # NaN / inf cells are drawn by their own layer
    same(drawn[~special], grads.dlogits[~special])


def test_the_default_state_proves_every_statement_with_its_numbers():
    at = open_proof()
    c = core(Inputs())
    assert c["deleted"].max_difference == 0.0
    assert "difference = masked − alone (max |d| = 0)" in charts(at)
    assert "∂L/∂logits (max |·| on masked cells = 0)" in charts(at)
    assert "∂L/∂V (max |·| on keys no query sees = 0)" in charts(at)
    (box,) = at.success
    assert box.value.startswith("**Bit-for-bit identical: 3 protected queries, max |Δ| = 0.**")
    assert not at.error
    # the exact-vs-float table: each masked key of row 0, exactly and in float32
    table = at.dataframe[0].value
    row = c["row"]
    assert list(table["key"]) == [c["result"].labels[j] for j in row.keys]
    assert list(table["e^(z − m) exactly"]) == [e.exact_text for e in row.exact] == ["1.24953e-434294482"] * 3
    assert set(table["e^(z − m) in float32"]) == {"0"}
    assert "-103.97" in said(at) and "1.4e-45" in said(at)


def test_the_leak_tables_and_figures_are_the_core_reports():
    at = open_proof(const="-10")
    leak = core(Inputs(constant="-10"))["leak"]
    shown = np.flatnonzero(leak.shielded)
    same(chart_z(at, "output before"), leak.before.output[shown].T)
    same(chart_z(at, "output after noise of size 1e6"), leak.after.output[shown].T)
    table = at.dataframe[-1].value
    assert list(table["max |Δ output|"]) == [spell(d, digits=3) for d in leak.delta]
    assert list(table["verdict"][:3]) == ["❌ moved: a leak"] * 3
    worst = spell(np.max(leak.delta[leak.leaks]), digits=3)
    (box,) = at.error
    assert f"Not identical: a protected output moved by {worst}." in box.value


def test_shaking_draws_a_new_seed_and_the_tutorial_mask_still_holds():
    at = open_proof()
    button = next(b for b in at.button if b.label.endswith("Shake the padding"))
    button.click().run()
    assert not at.exception
    seed = at.session_state[Key.PROOF_SEED]
    assert seed != 0
    assert at.success[0].value.startswith("**Bit-for-bit identical")
    assert f"seed {seed}" in said(at)
    leak = core(Inputs(), seed=seed)["leak"]
    assert md_escape(leak.takeaway()) in at.success[0].value
    same(chart_z(at, "output after"), leak.after.output[np.flatnonzero(leak.shielded)].T)


def test_the_constant_minus_10_leaks_after_the_same_shake():
    at = open_proof(const="-10", widgets={Key.PROOF_SEED: 12345})
    leak = core(Inputs(constant="-10"), seed=12345)["leak"]
    assert leak.shielded.any() and leak.leaks[leak.shielded].all()          # every protected query moved
    assert f"moved by {spell(np.max(leak.delta[leak.leaks]), digits=3)}" in at.error[0].value


@pytest.mark.parametrize("typed, why", [("nan", "must be a finite number, got NaN"),
                                        ("inf", "must be a finite number, got inf"),
                                        ("-inf", "must be a finite number, got -inf"),
                                        ("1e31", "must be at most 1e30 in size, got 1e31"),
                                        ("ten", "must be a number, got 'ten'")])
def test_bad_perturbations_are_refused_and_the_previous_size_kept(typed, why):
    at = open_proof()
    at.text_input(key=Key.PROOF_AMOUNT_TEXT).input("1e3").run()
    assert at.session_state[Key.PROOF_AMOUNT] == 1e3 and not at.exception
    at.text_input(key=Key.PROOF_AMOUNT_TEXT).input(typed).run()
    assert not at.exception
    assert at.session_state[Key.PROOF_AMOUNT] == 1e3
    message = " ".join(e.value for e in at.error).replace("\\", "")
    assert why in message and "Kept the previous size 1e3." in message
    assert "output after noise of size 1e3" in charts(at)         # the page still runs with the kept size


def test_a_typed_size_beyond_the_slider_is_used_and_joins_its_options():
    at = open_proof()
    at.text_input(key=Key.PROOF_AMOUNT_TEXT).input(" 2.5e12 ").run()
    assert not at.exception and Key.PROOF_AMOUNT_ERROR not in at.session_state
    assert at.session_state[Key.PROOF_AMOUNT] == 2.5e12
    assert "output after noise of size 2.5e12" in charts(at)
    assert at.select_slider(key=Key.PROOF_AMOUNT).value == 2.5e12
    # so large that the shaken scores outweigh -1e9 itself: the page says so, with the number
    (box,) = at.error
    assert "outweigh the constant" in box.value and "Not identical" in box.value


def test_the_slider_sets_the_size_and_the_box_follows():
    at = open_proof()
    at.select_slider(key=Key.PROOF_AMOUNT).set_value(100.0).run()
    assert not at.exception
    assert at.text_input(key=Key.PROOF_AMOUNT_TEXT).value == "100"
    assert "output after noise of size 100" in charts(at)


def test_change_a_future_token_under_the_causal_mask():
    at = open_proof(causal="1", widgets={Key.PROOF_TARGET: "future"})
    inputs = Inputs(causal=True)
    token = at.session_state[Key.PROOF_TOKEN]
    assert token == 2                                               # the last real token of "the cat sat"
    leak = core(inputs, token=token)["leak"]
    assert leak.shielded.tolist() == [True, True, False, False, False, False]
    assert at.success[0].value.startswith("**Bit-for-bit identical: 2 protected queries")
    same(chart_z(at, "output before"), leak.before.output[:2].T)
    assert next(b for b in at.button if b.label.endswith("Change it again"))


def test_a_future_token_without_the_causal_mask_is_seen_by_everyone():
    at = open_proof(widgets={Key.PROOF_TARGET: "future"})
    assert any("causal mask is off" in i.value for i in at.info)
    assert at.warning[0].value.startswith("**No query is protected")


def test_a_sequence_without_padding_says_what_to_do():
    at = open_proof(tokens="a b c")
    assert any("no pad token to shake" in i.value for i in at.info)


def test_the_row_follows_the_view_and_the_selectbox():
    at = open_proof(row="1")
    assert at.selectbox(key=Key.ROW).value == 1
    row = proof.exact_vs_float_row(compute(Inputs()).steps, 1)
    assert md_escape(row.takeaway(compute(Inputs()).labels)) in " ".join(m.value for m in at.markdown)
    at.selectbox(key=Key.ROW).set_value(4).run()
    assert not at.exception
    assert "row 4·\\<pad\\>" in " ".join(m.value for m in at.markdown)


def test_presentation_mode_opens_on_the_leak_test():
    at = open_proof(present="1")
    assert not at.title                                                       # a slide, as on the Playground
    assert at.markdown[0].value == "## Proof: the leak test, shake the padding"
    assert [h.value[:1] for h in at.header if h.value[0].isdigit()] == ["1", "2", "4"]
    assert charts(at)["output before"]["layout"]["width"] == 360             # two panels beside the controls
    assert at.success[0].value.startswith("**Bit-for-bit identical")


def test_the_playground_verdict_links_to_the_proof():
    at = fresh().run()
    (link,) = at.get("page_link")
    assert link.proto.label.startswith("Prove it") and link.proto.page.endswith("proof")
