"""The framework floor for the classroom load: the Playground's elements, with none of its logic.

Same sidebar widgets with the same labels (so ``loadgen.py`` drives it unchanged), and the
same main elements in the same layout: six charts, two tables, the headings, text, formula
and the two closed expanders. Everything a state shows is built once per state and cached
(as the Playground caches it), so a rerun costs only what Streamlit spends to draw and send
those elements. ``loadgen.py --app benchmarks/floor_load_app.py`` measures it; the
difference to the Playground is the Playground's own per-rerun work.

Run alone:  streamlit run benchmarks/floor_load_app.py  (then open /?tokens=w0+w1+w2)
"""

from pathlib import Path
import sys

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maskattn import figures, ui  # noqa: E402
from maskattn.numerics import DTYPE_NAMES  # noqa: E402
from maskattn.pipeline import compute  # noqa: E402
from maskattn.state import DEFAULT_TEXT, Inputs  # noqa: E402
from maskattn.tokens import MAX_TOKENS_PER_SEQUENCE  # noqa: E402


@st.cache_resource(max_entries=128, show_spinner=False)
def content(inputs: Inputs) -> dict:
    """Every value the page shows for one state, built once."""
    result = compute(inputs)
    return {"figures": ui.cache.playground_figures(inputs, ui.SCREEN), "labels": result.labels,
            "verdicts": "### What happened\n" + "\n".join(f"- {line}" for line in ui.cache.verdict_lines(inputs)),
            "inspector": ui.cache.inspector_table(inputs, 0, False), "row check": ui.cache.row_check_table(inputs),
            "formula": ui.cache.inspector_formula(inputs, 0)}


ui.disable_nagle()               # the same transport as the Playground's server
text = " ".join(st.query_params.get("tokens", DEFAULT_TEXT).split()[:MAX_TOKENS_PER_SEQUENCE])
sb = st.sidebar
sb.text_area("Token sequences — one per line, tokens split on spaces", value=text, height=130)
sb.text_input("Pad token (gets id 0)", value="<pad>", max_chars=32)
sb.selectbox("Sequence to view", options=["1"])
sb.markdown("**Masks** (1 = blocked, as in the tutorial)")
padding = sb.toggle("Padding mask — block `<pad>` keys", value=True)
sb.toggle("…also mask padded queries (Keras / Flax)")
causal = sb.toggle("Causal (look-ahead) mask")
sb.markdown("**How the mask is applied**")
sb.selectbox("Mask constant", options=["-1e9 (the tutorial)"])
sb.selectbox("Method", options=["add: logits + mask × constant (TF tutorial)"])
dtype = sb.selectbox("Number type (dtype)", options=list(DTYPE_NAMES), index=list(DTYPE_NAMES).index("float32"))
with sb.expander("Model: embeddings and projections"):
    scale = st.toggle("Scale logits by 1/√d", value=True)
    st.select_slider("d_model", options=[4, 8, 16], value=8)
    st.number_input("Seed", min_value=0, value=0)
    positional = st.toggle("Add positional encoding")
    st.radio("Queries and keys", options=["Q, K, V = seeded projections", "Q = K = token vectors"])
sb.toggle("Presentation mode (a slide for projectors)")

shown = content(Inputs(text=text, padding=padding, causal=causal, dtype=dtype, scale=scale, positional=positional))
figs, labels = shown["figures"], shown["labels"]
config = figures.export_config("floor")
st.title("Floor")
st.markdown("The Playground's elements, precomputed: what Streamlit itself costs per rerun.")
with st.container(horizontal=True, gap="small"):
    st.plotly_chart(figs["mask"], key="mask", config=config, theme=None, width=figs["mask"].layout.width)
    with st.container(width=470):
        st.markdown(shown["verdicts"])
st.markdown("#### The line, stage by stage")
for pair in (("logits", "mask-term"), ("masked-logits", "weights")):
    with st.container(horizontal=True, gap="small"):
        for name in pair:
            st.plotly_chart(figs[name], key=name, config=config, theme=None, on_select="rerun",
                            selection_mode="points", width=figs[name].layout.width)
st.caption("Outlined cells are masked keys.")
st.subheader("Row inspector")
pick, toggle = st.columns([2, 3])
with pick:
    st.selectbox("Query row", options=range(len(labels)), format_func=lambda i: labels[i])
with toggle:
    st.toggle("Show the spacing")
st.dataframe(shown["inspector"], hide_index=True, width="stretch")
st.caption("Every value is exact.")
st.markdown(shown["formula"], unsafe_allow_html=True)
st.subheader("Row check")
st.dataframe(shown["row check"], hide_index=True, width="stretch")
st.expander("The output: weights @ v, one row per query", key="open_output", on_change="rerun")
st.expander("Every matrix as a table, and downloads", key="open_downloads", on_change="rerun")
st.expander("The library function behind this page", key="open_library", on_change="rerun")
