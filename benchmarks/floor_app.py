"""The framework floor: a bare Streamlit page that draws the Playground's figures, precomputed.

It has one control (the causal toggle, with the same label, in the sidebar) and the
Playground's five charts in the same column layout, on the same transport (TCP_NODELAY on,
as ``app.py`` sets it). The figures for both states of
the toggle are built once per T (``?T=8``) and cached, so a rerun costs only what
Streamlit and Plotly must spend to send and draw those exact figures: the floor our
page is compared with in ``bench_click.py`` and ``bench_cold_start.py``.

Run alone:  streamlit run benchmarks/floor_app.py -- (then open /?T=64)
"""

from pathlib import Path
import sys

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maskattn import figures, ui  # noqa: E402
from maskattn.pipeline import compute  # noqa: E402
from maskattn.state import Inputs  # noqa: E402
from maskattn.tokens import MAX_TOKENS_PER_SEQUENCE  # noqa: E402

DEFAULT_T = 8


@st.cache_resource(show_spinner=False)
def precomputed(T: int) -> dict[bool, list]:
    """Both states' (key, figure) pairs for one sequence of T tokens — the Playground's figures."""
    text = " ".join(f"w{i % 50}" for i in range(T))        # the same input as benchmarks/common.tokens_text
    states = {}
    for causal in (False, True):
        r = compute(Inputs(text=text, causal=causal))
        states[causal] = list(figures.playground_figures(r).items())
    return states


ui.disable_nagle()               # the same transport as the Playground's server (see maskattn.ui)
try:
    T = min(max(int(st.query_params.get("T", DEFAULT_T)), 1), MAX_TOKENS_PER_SEQUENCE)
except ValueError:
    T = DEFAULT_T
causal = st.sidebar.toggle("Causal (look-ahead) mask", key="causal")
charts = dict(precomputed(T)[causal])
config = figures.export_config("floor")

st.title("Floor")
for names in (("mask",), ("logits", "mask-term"), ("masked-logits", "weights"), ("output",)):
    with st.container(horizontal=True, gap="small"):
        for key in names:
            st.plotly_chart(charts[key], key=key, config=config, theme=None, width=charts[key].layout.width)
