"""figures.leaked_mass_figure: zeros and NaN kept on their own lanes, markers, the current constant."""

import math

import numpy as np

from maskattn import figures

CONSTANTS = np.array([-1.0, -10.0, -1e9, -math.inf])
LEAKED = {"float16": np.array([0.1, 1e-5, np.nan, np.nan]),
          "float32": np.array([0.1, 1.2e-5, 0.0, np.nan]),
          "float64": np.array([0.1, 1.2e-5, 1e-300, 0.0])}


def traces(fig):
    return {t.name: t for t in fig.data}


def test_zeros_and_nans_are_drawn_not_dropped():
    fig = figures.leaked_mass_figure(CONSTANTS, LEAKED)
    t = traces(fig)
    assert t["float32: exactly 0"].x.tolist() == [1e9]
    assert t["float16: NaN"].x.tolist() == [1e9, t["float16: NaN"].x[1]]
    inf_x = t["float16: NaN"].x[1]
    assert inf_x > 1e9                                    # -inf sits right of every finite constant
    # the lanes: every zero below every positive value, every NaN above every value
    zero_y = t["float32: exactly 0"].y[0]
    nan_y = t["float16: NaN"].y[0]
    assert zero_y < 1e-300 and nan_y > 1.0
    # tiny float64 leaks keep their value (float64 arrays: 1e-300 is below float32's range)
    line = t["float64"]
    assert 1e-300 in line.y.tolist() and line.y.dtype == np.float64


def test_true_values_are_in_the_hover():
    fig = figures.leaked_mass_figure(CONSTANTS, LEAKED)
    zero = traces(fig)["float32: exactly 0"]
    assert zero.customdata.tolist() == [[-1e9, 0.0]]
    assert "customdata[1]" in zero.hovertemplate


def test_line_breaks_before_minus_inf():
    line = traces(figures.leaked_mass_figure(CONSTANTS, LEAKED))["float32"]
    assert math.isnan(line.x[-2]) and math.isnan(line.y[-2])


def test_markers_current_constant_and_ticks():
    fig = figures.leaked_mass_figure(
        CONSTANTS, LEAKED, current=-10.0, current_leaked={"float32": 1.2e-5, "float16": math.nan},
        underflow={"float32": -102.8, "float16": math.nan}, overflow={"float16": -65504.0})
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    xs = sorted(s.x0 for s in lines)
    assert xs == [10.0, 102.8, 65504.0]                   # current, underflow, overflow; NaN skipped
    red = [s for s in lines if s.x0 == 10.0][0]
    assert red.line.color == "#d62728"
    big = traces(fig)["float16 at your constant"]
    assert big.y[0] == traces(fig)["float16: NaN"].y[0]   # a NaN current point sits on the NaN lane
    assert list(fig.layout.xaxis.ticktext)[-1] == "<b>−∞</b>"
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_zoom_says_where_an_off_range_constant_is():
    fig = figures.leaked_mass_figure(CONSTANTS, LEAKED, current=-1e9, max_decade=5)
    assert fig.layout.xaxis.range == (-0.15, 5.15)
    assert any("further right" in a.text for a in fig.layout.annotations)
