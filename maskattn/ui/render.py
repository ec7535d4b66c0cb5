"""Small Streamlit helpers for drawing: safe markdown, formulas, charts, tables, downloads, presentation type."""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert as latex_to_mathml
import streamlit as st

from .. import export, figures
from ..figures.heatmap import SHRINK, WIDTH_STEP

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$&:])")


def md_escape(text: str) -> str:
    """User text made literal for ``st.markdown``: markdown, HTML and LaTeX characters escaped.

    >>> md_escape("<b>*hi*</b> $x$")
    '\\\\<b\\\\>\\\\*hi\\\\*\\\\</b\\\\> \\\\$x\\\\$'
    """
    return _MD_SPECIAL.sub(r"\\\1", text)


def formula_markdown(lines: list[tuple[str, str]]) -> str:
    """``(latex, note)`` pairs as one markdown element: display math, each note small and grey below it.

    One element instead of one per line: every element costs each rerun (benchmarks/README.md).

    >>> print(formula_markdown([("x = 1", ""), ("e^{-9} = 0", "it underflows")]))
    $$
    x = 1
    $$
    <BLANKLINE>
    $$
    e^{-9} = 0
    $$
    <BLANKLINE>
    :gray[:small[↳ it underflows]]
    """
    parts = []
    for latex, note in lines:
        parts.append(f"$$\n{latex}\n$$")
        if note:
            parts.append(f":gray[:small[↳ {md_escape(note)}]]")
    return "\n\n".join(parts)


_FORMULA_STYLE = "font-size: 1.15em; margin: 0.5rem 0; overflow-x: auto"
_NOTE_STYLE = "color: #6b6b6b; font-size: 0.85em; margin: -0.2rem 0 0.6rem 0"


def formula_html(lines: list[tuple[str, str]]) -> str:
    """``(latex, note)`` pairs as MathML (converted here, drawn natively by the browser) with each note
    small and grey below it. For ``st.markdown(..., unsafe_allow_html=True)``: the LaTeX holds only
    numbers and symbols (keys are named by position, never by user text) and the notes are escaped.

    KaTeX, which ``st.markdown`` uses for ``$$``, typesets a five-line formula in about 100 ms on every
    change; the browser's own MathML needs a few (benchmarks/README.md).

    >>> html_text = formula_html([("e^{-9} = 0", "it <underflows>")])
    >>> html_text.startswith('<div class="maskattn-formula"'), "<math" in html_text, "&lt;underflows&gt;" in html_text
    (True, True, True)
    """
    parts = []
    for latex, note in lines:
        # a line that may scroll sideways takes keyboard focus, so it can be scrolled without a mouse
        parts.append(f'<div class="maskattn-formula" tabindex="0" role="group" aria-label="formula" '
                     f'style="{_FORMULA_STYLE}">{latex_to_mathml(latex, display="block")}</div>')
        if note:
            parts.append(f'<p class="maskattn-note" style="{_NOTE_STYLE}">↳ {html.escape(note)}</p>')
    return "\n".join(parts)


def chart(fig, key: str, filename: str, **kwargs):
    """``st.plotly_chart`` with a unique key, at the figure's own size when it has one, and a camera
    that saves the figure laid out at that size (never the size of the window it was clicked in)."""
    width, height = fig.layout.width, fig.layout.height
    config = figures.export_config(filename, width=width, height=height)
    size = {"width": int(width)} if width else {}
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    return st.plotly_chart(fig, key=key, config=config, theme=None, alt=meta.get("alt"), **size, **kwargs)


#: projector type (static CSS, no user text in it): prose, tables, the formula and the controls
_PRESENTATION_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.6rem; font-size: 1.25rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 2.1rem; padding: 0 0 0.3rem 0; }
[data-testid="stMainBlockContainer"] h2, [data-testid="stMainBlockContainer"] h3 { font-size: 1.7rem; }
[data-testid="stMainBlockContainer"] h4 { font-size: 1.45rem; padding: 0 0 0.2rem 0; }
[data-testid="stMainBlockContainer"] p, [data-testid="stMainBlockContainer"] li { font-size: 1.25rem; }
[data-testid="stMainBlockContainer"] [data-testid="stTable"] td,
[data-testid="stMainBlockContainer"] [data-testid="stTable"] th { font-size: 1.15rem; }
[data-testid="stMainBlockContainer"] .maskattn-formula { font-size: 1.4em !important; }
[data-testid="stMainBlockContainer"] [data-baseweb="select"] div,
[data-testid="stMainBlockContainer"] input, [data-testid="stMainBlockContainer"] textarea,
[data-testid="stMainBlockContainer"] [data-testid="stWidgetLabel"] p { font-size: 1.2rem; }
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] p { font-size: 1.1rem; }
</style>"""


def _figure_css() -> str:
    """Static CSS: a chart's cell numbers disappear where it is drawn narrower than ``SHRINK`` of its design (the
    numbers would touch; the hover keeps every value), by a container query per designed width."""
    rules = [f"@container (max-width: {int(w * SHRINK)}px) {{ [data-testid=\"stPlotlyChart\"] "
             f"text[style*=\"cw{w},\"] {{ display: none; }} }}" for w in range(200, 1208, WIDTH_STEP)]
    # captions at 4.5:1 on white (Streamlit's own grey, #828180, is 3.88:1)
    caption = ("[data-testid=\"stCaptionContainer\"], [data-testid=\"stCaptionContainer\"] p "
               "{ color: #5d5e66 !important; opacity: 1 !important; }")
    return ("<style>[data-testid=\"stPlotlyChart\"] { container-type: inline-size; }\n" + caption + "\n"
            + "\n".join(rules) + "</style>")


FIGURE_CSS = _figure_css()


def figure_style() -> None:
    """Hide cell numbers of a chart drawn too narrow for them (static CSS, the same on every run)."""
    st.html(FIGURE_CSS)


def presentation_style() -> None:
    """Projector-size type for every text of the page (the figures get theirs as arguments)."""
    st.html(_PRESENTATION_CSS)


MATRIX_TITLES = {"mask": "mask", "logits": "raw logits", "mask-term": "mask term",
                 "masked-logits": "masked logits", "weights": "weights", "output": "output"}


def matrix_tables(result) -> None:
    """Every matrix as a table with token labels: for screen readers, copying, and no hover needed."""
    import pandas as pd

    for name, title in MATRIX_TITLES.items():
        columns, rows = export.matrix_labels(result, name)
        values = export.matrix_values(result, name).astype(float)         # exact: every dtype fits float64
        st.markdown(f"**{title}**{' (1 = blocked)' if name == 'mask' else ''} — rows are queries, columns are "
                    f"{'value dimensions' if name == 'output' else 'keys'}")
        st.dataframe(pd.DataFrame(values, index=rows, columns=columns), width="stretch")


def matrix_downloads(result) -> None:
    """A CSV download button per matrix and one for the JSON of the state and results.

    The buttons sit in a wrapping row, each as wide as its label: none is ever cut short.
    """
    tag = export.file_tag(result)
    items = [(f"{title} (CSV)", lambda n=name: export.matrix_csv(result, n), f"{name}--{tag}.csv", "text/csv",
              f"csv-{name}") for name, title in MATRIX_TITLES.items()]
    items.append(("state + results (JSON)", lambda: export.to_json(result), f"maskattn--{tag}.json",
                  "application/json", "json"))
    with st.container(horizontal=True, gap="small"):
        for label, data, file_name, mime, key in items:     # the file is made only when the button is clicked
            st.download_button(label, data=data, file_name=file_name, mime=mime, key=key, on_click="ignore",
                               icon="⬇️", width="content")
