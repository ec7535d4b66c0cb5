"""figures.leaked_mass_figure: zero and NaN on their own strips, never on the log axis, no line across a gap."""

import math

import numpy as np

from maskattn import figures

CONSTANTS = np.array([-1.0, -10.0, -1e4, -1e9, -math.inf])
LEAKED = {"float16": np.array([0.1, 1e-5, 0.0, np.nan, np.nan]),      # exactly 0, then NaN once -1e9 overflows
          "float32": np.array([0.1, 1.2e-5, 0.0, 0.0, np.nan]),
          "float64": np.array([0.1, 1.2e-5, 1e-300, 0.0, 0.0])}


def traces(fig):
    return {t.name: t for t in fig.data}


def test_zero_and_nan_sit_on_their_own_strips_not_on_the_log_axis():
    fig = figures.leaked_mass_figure(CONSTANTS, LEAKED)
    t = traces(fig)
    assert t["float32: exactly 0"].yaxis == "y2" and t["float16: NaN"].yaxis == "y3"
    assert t["float32: exactly 0"].x.tolist() == [1e4, 1e9]
    assert list(t["float16: NaN"].y) == ["float16", "float16"]             # a row per dtype
    inf_x = t["float16: NaN"].x[1]
    assert inf_x > 1e9                                                      # -inf right of every finite constant
    # the strips do not overlap the log band, and NaN is above it, zero below it
    layout = fig.layout
    assert layout.yaxis2.domain[1] < layout.yaxis.domain[0] < layout.yaxis.domain[1] < layout.yaxis3.domain[0]
    assert layout.yaxis.type == "log" and layout.yaxis2.type == "category"


def test_no_line_runs_from_a_value_into_a_strip():
    """float16 goes 1e-5 -> exactly 0 -> NaN: its log line must stop at the last positive value."""
    line = traces(figures.leaked_mass_figure(CONSTANTS, LEAKED))["float16"]
    y = np.asarray(line.y, dtype=float)
    assert np.isnan(y[2:]).all()                                           # nothing drawn for 0 or NaN
    assert (y[~np.isnan(y)] > 0).all()
    # tiny float64 leaks keep their value (1e-300 is below float32's range, so float64 arrays)
    assert 1e-300 in traces(figures.leaked_mass_figure(CONSTANTS, LEAKED))["float64"].y.tolist()


def test_line_breaks_before_minus_inf():
    line = traces(figures.leaked_mass_figure(CONSTANTS, LEAKED))["float64"]
    assert math.isnan(line.x[-2])


def test_true_values_are_in_the_hover_spelled_once():
    zero = traces(figures.leaked_mass_figure(CONSTANTS, LEAKED))["float32: exactly 0"]
    assert [list(c) for c in zero.customdata] == [["-1e4", "0"], ["-1e9", "0"]]
    assert "customdata[1]" in zero.hovertemplate


def test_markers_current_constant_and_ticks_without_colliding_labels():
    fig = figures.leaked_mass_figure(
        CONSTANTS, LEAKED, current=-10.0, current_leaked={"float32": 1.2e-5, "float16": math.nan},
        underflow={"float32": -102.8, "float16": math.nan}, overflow={"float16": -65504.0})
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert sorted(s.x0 for s in lines) == [10.0, 102.8, 65504.0]            # current, underflow, overflow
    red = [s for s in lines if s.x0 == 10.0][0]
    assert red.line.color == "#d62728"
    big = traces(fig)["float16 at your constant"]
    assert big.yaxis == "y3"                                               # a NaN current point sits on the NaN strip
    assert list(fig.layout.xaxis.ticktext)[-1] == "<b>-inf</b>"
    # the threshold lines carry their names in the hover, not in text that could collide
    assert [a.text for a in fig.layout.annotations] == ["your constant -10"]
    hovers = [t.hovertemplate for t in fig.data if t.hovertemplate and "underflows" in t.hovertemplate]
    assert hovers == ["float32: exp underflows at about -102.8<extra></extra>"]


def test_zoom_says_where_an_off_range_constant_is():
    fig = figures.leaked_mass_figure(CONSTANTS, LEAKED, current=-1e9, max_decade=5)
    low, high = fig.layout.xaxis.range
    assert 5 < high < 5.5 and -0.5 < low < 0          # a margin beyond the last decade, for whole markers
    assert any("further right" in a.text for a in fig.layout.annotations)
