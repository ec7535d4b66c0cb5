"""The UI caches (maskattn.ui.cache) and speed fixes: they change how often work is done, never the result."""

import socket

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from maskattn import figures, ui
from maskattn.pipeline import compute
from maskattn.inspector import STEP_COLUMNS
from maskattn.state import Inputs


def test_a_frozen_figure_hands_out_the_same_spec_as_the_figure_it_froze():
    original = figures.playground_figures(compute(Inputs(causal=True)))["weights"]
    frozen = figures.FrozenFigure(original)
    assert isinstance(frozen, go.Figure)                      # st.plotly_chart takes it without re-validating
    assert pio.to_json(frozen.to_dict()) == pio.to_json(original.to_dict())
    first, second = frozen.to_dict(), frozen.to_dict()
    assert first == second and first is not second           # a new top level each time, shared contents
    assert frozen.layout.title.text == original.layout.title.text
    # its traces hold the JSON form: arrays as base64 typed arrays, as the browser receives them
    assert frozen.data[0].z["dtype"] == "f4"


def test_cached_playground_figures_match_the_figure_builders():
    inputs = Inputs(causal=True, dtype="float16")
    fresh = figures.playground_figures(compute(inputs))
    cached = ui.cache.playground_figures(inputs, ui.SCREEN)
    assert cached.keys() == fresh.keys()
    for name in fresh:
        assert pio.to_json(cached[name].to_dict()) == pio.to_json(fresh[name].to_dict()), name


def test_a_row_click_reuses_the_result_and_the_figures(monkeypatch):
    """The view (row, presentation) is never part of a compute or figure cache key."""
    inputs = Inputs(text="a row click costs no recompute", causal=True)
    calls = {"compute": 0, "figures": 0}
    real_compute, real_figures = ui.cache.compute, figures.playground_figures

    def counting_compute(*args, **kwargs):
        calls["compute"] += 1
        return real_compute(*args, **kwargs)

    def counting_figures(*args, **kwargs):
        calls["figures"] += 1
        return real_figures(*args, **kwargs)

    monkeypatch.setattr(ui.cache, "compute", counting_compute)
    monkeypatch.setattr(figures, "playground_figures", counting_figures)
    T = len(ui.cache.result(inputs).labels)
    outlined = [ui.cache.stage_figure(inputs, ui.SCREEN, "weights", row) for row in range(T)]
    for row in range(T):
        ui.cache.inspector_table(inputs, row, False)
        ui.cache.inspector_formula(inputs, row)
    assert calls == {"compute": 1, "figures": 1}
    base = ui.cache.playground_figures(inputs, ui.SCREEN)["weights"].to_dict()
    for row, fig in enumerate(outlined):
        spec = fig.to_dict()
        assert spec["data"] is base["data"]                         # the traces are shared, not rebuilt
        extra = spec["layout"]["shapes"][len(base["layout"].get("shapes", [])):]
        assert [s["y0"] for s in extra] == [row - 0.5] * 2          # only the row's outline is new


def test_the_inspector_table_draws_the_row_with_and_without_the_mask():
    inputs = Inputs(causal=True)
    result = compute(inputs)
    table = ui.cache.inspector_table(inputs, 1, False).to_pandas()
    np.testing.assert_array_equal(table[ui.cache.WITH_MASK], result.steps.weights[1].astype(float))
    np.testing.assert_array_equal(table[ui.cache.WITHOUT_MASK], result.unmasked.weights[1].astype(float))
    nan_row = ui.cache.inspector_table(Inputs(dtype="float16"), 0, False).to_pandas()
    assert nan_row[ui.cache.WITH_MASK].isna().all() and not nan_row[ui.cache.WITHOUT_MASK].isna().any()


def test_the_inspector_table_spells_each_step_exactly_and_marks_masked_keys():
    inputs = Inputs(dtype="float16")
    table = ui.cache.inspector_table(inputs, 0, True).to_pandas()
    steps = [c for c in STEP_COLUMNS if c != "bias"]                        # no bias is on: no bias column
    assert list(table.columns) == ["key", "masked", *steps, ui.cache.SPACING_COLUMN, ui.cache.WITH_MASK,
                                   ui.cache.WITHOUT_MASK]
    assert list(table["masked"]) == ["", "", "", "yes", "yes", "yes"]     # "the cat sat" + three pads
    biased = ui.cache.inspector_table(Inputs(bias="alibi", causal=True), 2, False).to_pandas()
    assert list(biased["bias"]) == ["-1", "-0.5", "0", "0.5", "1", "1.5"]   # head 1: slope 1/2, −m·(i − j) at row 2
    assert set(table["weight"]) == {"NaN"}                                # float16: -1e9 is -inf, 0 x -inf
    assert list(table["mask term"]) == ["NaN"] * 3 + ["-inf"] * 3        # where the NaN comes from
    without_spacing = ui.cache.inspector_table(inputs, 0, False).to_pandas()
    assert ui.cache.SPACING_COLUMN not in without_spacing.columns


def test_the_row_check_table_has_one_row_per_query():
    inputs = Inputs(causal=True)
    table = ui.cache.row_check_table(inputs).to_pandas()
    assert len(table) == len(compute(inputs).labels)
    np.testing.assert_allclose(table["row sum"], 1.0, rtol=1e-6)


def test_disable_nagle_sets_tcp_nodelay_on_open_sockets_and_on_later_accepted_ones():
    with socket.socket() as listener:                          # proto 0, like Streamlit's own listener
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as client:
            server_side, _ = listener.accept()
            with server_side:
                assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
                assert ui.disable_nagle.__wrapped__() >= 3     # the sweep itself, not its once-per-process cache
                assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
                assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            with socket.create_connection(listener.getsockname()):
                later, _ = listener.accept()
                with later:                                    # Linux: inherited from the listener
                    assert later.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


# --------------------------------------------------------------------------- the Proof page's panels

def test_proof_panels_are_cached_per_inputs_and_carry_the_cores_takeaways():
    from maskattn import proof

    inputs = Inputs(text="a cached proof <pad>")
    r = compute(inputs)
    deleted = ui.cache.deleted_panel(inputs, ui.SCREEN)
    assert ui.cache.deleted_panel(inputs, ui.SCREEN) is deleted              # built once per Inputs and Look
    assert deleted.takeaway == ui.md_escape(proof.delete_masked_keys(r.steps).takeaway(r.labels))
    grads = ui.cache.gradient_panel(inputs, ui.SCREEN)
    expected = proof.attention_grads(r.q, r.k, r.v, r.mask, d_output=np.ones(r.steps.output.shape))
    assert grads.takeaway == ui.md_escape(expected.takeaway(r.labels))
    assert all(isinstance(f, figures.FrozenFigure) for f in (*deleted.figures.values(), *grads.figures.values()))
    exact = ui.cache.exact_panel(inputs, 0)
    assert exact.table.column("e^(z − m) exactly").to_pylist() == ["1.24953e-434294482"]
    assert "exp rounds every exponent below -103.97 to exactly 0" in exact.note


def test_the_leak_panel_names_its_verdict_from_the_report():
    identical = ui.cache.leak_panel(Inputs(), ui.SCREEN, None, 1e6, 0)
    assert identical.verdict == "identical"
    assert identical.headline == "Bit-for-bit identical: 3 protected queries, max |Δ| = 0"
    moved = ui.cache.leak_panel(Inputs(constant="-10"), ui.SCREEN, None, 1e6, 0)
    assert moved.verdict == "moved" and moved.headline.startswith("Not identical: a protected output moved by ")
    nan = ui.cache.leak_panel(Inputs(dtype="float16"), ui.SCREEN, None, 1e6, 0)
    assert nan.headline == "Not identical: a protected output is NaN"
    unprotected = ui.cache.leak_panel(Inputs(padding=False), ui.SCREEN, None, 1e6, 0)
    assert unprotected.verdict == "unprotected"
    future = ui.cache.leak_panel(Inputs(causal=True), ui.SCREEN, 2, 1e6, 0)      # change "sat": 0·the, 1·cat kept
    assert future.verdict == "identical" and future.headline.startswith("Bit-for-bit identical: 2 protected")
    assert future.table.column("verdict").to_pylist()[:2] == ["✅ bit-for-bit identical"] * 2


def test_disable_nagle_walks_past_dead_weak_proxies():
    """A weak proxy whose referent is gone raises ReferenceError when asked for its class: the sweep
    must not (in CI, with TensorFlow and PyTorch loaded, one such proxy turned every page into an error)."""
    import weakref

    class Referent:
        pass

    referent = Referent()
    dead = [weakref.proxy(referent)]
    del referent
    with pytest.raises(ReferenceError):
        isinstance(dead[0], socket.socket)                # what the sweep used to do
    assert ui.disable_nagle.__wrapped__() >= 0


def test_streamlit_still_tells_a_run_started_by_back_or_forward():
    """ui.session.history_navigation reads Streamlit's script run context (no public API in 1.67): if the field
    moves, Back and Forward would silently stop restoring the state, so fail here instead."""
    import dataclasses
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext
    assert "is_history_navigation" in {f.name for f in dataclasses.fields(ScriptRunContext)}
