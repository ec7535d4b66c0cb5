"""The Streamlit-side speed fixes in maskattn.ui: they change how often work is done, never the result."""

import socket

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from maskattn import figures, ui
from maskattn.pipeline import compute
from maskattn.state import Settings


def test_a_frozen_figure_hands_out_the_same_spec_as_the_figure_it_froze():
    original = figures.playground_figures(compute(Settings(causal=True)))["weights"]
    frozen = figures.FrozenFigure(original)
    assert isinstance(frozen, go.Figure)                      # st.plotly_chart takes it without re-validating
    assert pio.to_json(frozen.to_dict()) == pio.to_json(original.to_dict())
    first, second = frozen.to_dict(), frozen.to_dict()
    assert first == second and first is not second           # a new top level each time, shared contents
    assert frozen.layout.title.text == original.layout.title.text
    # its traces hold the JSON form: arrays as base64 typed arrays, as the browser receives them
    assert frozen.data[0].z["dtype"] == "f4"


def test_cached_playground_figures_match_the_figure_builders():
    settings = Settings(causal=True, dtype="float16")
    fresh = figures.playground_figures(compute(settings))
    cached = ui.playground_figures(settings)
    assert cached.keys() == fresh.keys()
    for name in fresh:
        assert pio.to_json(cached[name].to_dict()) == pio.to_json(fresh[name].to_dict()), name


def test_the_row_weights_figure_is_the_builders_figure_for_that_row():
    settings = Settings(causal=True)
    result = compute(settings)
    built = figures.weights_bar_figure(result.labels, result.unmasked.weights[1], result.steps.weights[1],
                                       title="weights of query 1·cat: without and with the mask")
    assert pio.to_json(ui.row_weights_figure(settings, 1).to_dict()) == pio.to_json(built.to_dict())


def test_the_inspector_table_prints_each_step_exactly_and_marks_masked_keys():
    settings = Settings(dtype="float16")
    table = ui.inspector_table(settings, 0, True).to_pandas()
    assert list(table.columns) == [*ui.INSPECTOR_COLUMNS, ui.SPACING_COLUMN, "masked"]
    assert list(table["masked"]) == ["", "", "", "yes", "yes", "yes"]     # "the cat sat" + three pads
    assert set(table["weight"][3:]) == {"NaN"}                            # float16: -1e9 is -inf, 0 x -inf
    without_spacing = ui.inspector_table(settings, 0, False).to_pandas()
    assert ui.SPACING_COLUMN not in without_spacing.columns


def test_the_row_check_table_has_one_row_per_query():
    settings = Settings(causal=True)
    table = ui.row_check_table(settings).to_pandas()
    assert len(table) == len(compute(settings).labels)
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
