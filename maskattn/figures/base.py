"""What every figure shares: the template, fonts, colour scales, safe labels, frozen figures, export.

Figure builders take arrays, labels and explicit options (font size, panel size) and
return a ``go.Figure``; they never call Streamlit and never read app settings.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
from plotly.colors import get_colorscale, sample_colorscale

#: colour-blind-safe scales: a blue-red diverging scale for scores, cividis for weights
#: (as explicit stops: the figures skip Plotly's validation, which is what turns a name like "RdBu_r" into stops)
LOGIT_SCALE = get_colorscale("RdBu_r")


def stretched_near_zero(scale: str = "Cividis", stops: int = 24) -> list:
    """``scale`` with its colours spread by the square root of the value: a weight of 0.02 is already
    14 % of the way along the colours, so a small leak never looks like an exact 0.

    The values (and the colour bar's ticks) stay linear; only the colours are spread.

    >>> stretched_near_zero(stops=2)
    [[0.0, 'rgb(0, 34, 78)'], [0.25, 'rgb(125, 124, 118)'], [1.0, 'rgb(254, 232, 56)']]
    """
    positions = [i / stops for i in range(stops + 1)]
    colours = sample_colorscale(scale, positions)
    return [[p * p, c] for p, c in zip(positions, colours)]


#: weights: cividis, spread by the square root so a small weight on a masked key shows
WEIGHT_SCALE = stretched_near_zero()
#: type sizes: the screen, and presentation mode (readable from the back of a classroom)
BASE_FONT = 13
PRESENTATION_FONT = 20
#: one colour-blind-safe colour (Okabe-Ito) and marker per dtype, used by every lab figure
DTYPE_STYLE = {
    "float16": ("#E69F00", "circle"),
    "bfloat16": ("#009E73", "diamond"),
    "float32": ("#0072B2", "square"),
    "float64": ("#CC79A7", "triangle-up"),
}
#: the parts of Plotly's default "plotly" template these figures use. The full template adds
#: 6.5 KB to every figure sent to the browser and is deep-copied by st.plotly_chart on every
#: rerun (~10 ms per figure on 2 cores); this subset draws the same pixels.
_AXIS_STYLE = {"gridcolor": "white", "linecolor": "white", "ticks": "", "title": {"standoff": 15},
               "zerolinecolor": "white", "automargin": True, "zerolinewidth": 2}
TEMPLATE = {
    "layout": {"font": {"color": "#2a3f5f"}, "paper_bgcolor": "white", "plot_bgcolor": "#E5ECF6",
               "xaxis": _AXIS_STYLE, "yaxis": _AXIS_STYLE, "hoverlabel": {"align": "left"},
               "hovermode": "closest", "title": {"x": 0.05}, "autotypenumbers": "strict",
               "coloraxis": {"colorbar": {"outlinewidth": 0, "ticks": ""}},
               "colorway": ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692",
                            "#B6E880", "#FF97FF", "#FECB52"]},
    "data": {"heatmap": [{"colorbar": {"outlinewidth": 0, "ticks": ""}}],
             "bar": [{"error_x": {"color": "#2a3f5f"}, "error_y": {"color": "#2a3f5f"},
                      "marker": {"line": {"color": "#E5ECF6", "width": 0.5},
                                 "pattern": {"fillmode": "overlay", "size": 10, "solidity": 0.2}}}]},
}

#: validated once: Plotly re-validates a template given as a dict in every figure (~1.5 ms each)
_TEMPLATE = go.layout.Template(TEMPLATE)


def safe_label(text: str, limit: int = 24) -> str:
    """User text for a Plotly label: HTML-escaped (Plotly renders some tags) and shortened.

    >>> safe_label("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/scrip…'
    """
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def _axis_labels(rows: int, cols: int, x_labels, y_labels) -> tuple[list[str], list[str]]:
    """Checked, escaped tick labels for a ``rows x cols`` matrix."""
    if len(y_labels) != rows or len(x_labels) != cols:
        raise ValueError(f"{rows}x{cols} matrix needs {rows} row and {cols} column labels, "
                         f"got {len(y_labels)} and {len(x_labels)}")
    return [safe_label(s) for s in x_labels], [safe_label(s) for s in y_labels]


class FrozenFigure(go.Figure):
    """A figure that is never changed after it is built, so its dict is made once.

    ``st.plotly_chart`` calls ``to_dict()`` on every rerun: a deep copy of the whole figure with
    every array re-encoded as base64 (about 1 ms per figure at T = 16, 2 ms at T = 256). The
    app caches its figures, shares them between sessions and never mutates them, so the first
    dict serves every later rerun. Its traces hold that JSON form (arrays as base64 typed arrays, as the
    browser receives them). Never change one in place: build a new figure instead.

    >>> frozen = FrozenFigure(go.Figure({"data": [{"type": "bar", "y": [1, 2]}]}))
    >>> frozen.to_dict()["data"][0]["y"]
    [1, 2]
    """

    def __init__(self, figure: go.Figure | dict):
        spec = figure if isinstance(figure, dict) else figure.to_dict()
        super().__init__(spec, _validate=False)            # validated when ``figure`` was built
        self._frozen_spec = spec

    def to_dict(self) -> dict:
        return dict(self._frozen_spec)                     # a new top level; the rest is shared, read-only

    def with_shapes(self, shapes: list[dict]) -> FrozenFigure:
        """This figure with ``shapes`` drawn on top (e.g. the selected row's outline).

        The traces, and every array in them, are shared with this figure, not copied or
        re-encoded: a row click costs a new layout, not a new figure.

        >>> base = FrozenFigure(go.Figure({"data": [{"type": "bar", "y": [1, 2]}]}))
        >>> outlined = base.with_shapes([{"type": "rect", "x0": 0, "x1": 1, "y0": 0, "y1": 1}])
        >>> len(outlined.to_dict()["layout"]["shapes"]), "shapes" in base.to_dict()["layout"]
        (1, False)
        >>> outlined.to_dict()["data"] is base.to_dict()["data"]
        True
        """
        spec = dict(self._frozen_spec)
        layout = dict(spec.get("layout", {}))
        layout["shapes"] = list(layout.get("shapes", ())) + list(shapes)
        spec["layout"] = layout
        return FrozenFigure(spec)


def export_config(filename: str, *, width: int | None = None, height: int | None = None, scale: int = 3) -> dict:
    """``st.plotly_chart`` config: a camera button that saves a high-resolution PNG.

    With ``width`` and ``height`` the image is laid out at that size, whatever the size of the
    window it was clicked in (numbers that fit on screen fit in the image).

    >>> export_config("weights", width=520, height=480)["toImageButtonOptions"]
    {'format': 'png', 'filename': 'weights', 'scale': 3, 'width': 520, 'height': 480}
    """
    name = "".join(ch if ch.isalnum() or ch in "-_.+" else "-" for ch in filename)[:150] or "figure"
    image = {"format": "png", "filename": name, "scale": scale}
    if width and height:
        image |= {"width": int(width), "height": int(height)}
    return {"displaylogo": False, "toImageButtonOptions": image,
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"]}
