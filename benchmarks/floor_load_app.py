"""The framework floor for the classroom load: the Playground's elements, with none of its logic.

The same frame (page config, the figure CSS, the navigation over seven pages), the same sidebar widgets in the
same order with the same labels and keys (so ``loadgen.py`` drives it unchanged), and the same main elements in
the same layout: the answer's two charts, the mask and the verdict beside it, the stage charts, the inspector's
selectbox, toggle, table and formula, the row check, the three closed expanders. Everything a state shows is built
once per state and cached (as the Playground caches it), so a rerun costs only what Streamlit spends to draw and
send those elements. ``loadgen.py --app benchmarks/floor_load_app.py`` measures it; the difference to the
Playground is the Playground's own per-rerun work. When the Playground's elements change, this file follows.

Run alone:  streamlit run benchmarks/floor_load_app.py  (then open /?tokens=w0+w1+w2)
"""

from pathlib import Path
import sys

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maskattn import figures, ui  # noqa: E402
from maskattn.attention import METHODS  # noqa: E402
from maskattn.numerics import DTYPE_NAMES  # noqa: E402
from maskattn.pipeline import compute  # noqa: E402
from maskattn.state import CONSTANT_PRESETS, DEFAULT_TEXT, Inputs  # noqa: E402
from maskattn.tokens import D_MODEL_CHOICES, MAX_TOKENS_PER_SEQUENCE, PADDING_SIDES, QK_MODES  # noqa: E402

#: the Playground's navigation: seven entries (the other six are never run here)
TITLES = ("Masks", "Proof: masked keys are ignored", "Constant lab", "In a real model", "Classroom", "Conventions")


@st.cache_resource(max_entries=128, show_spinner=False)
def content(inputs: Inputs) -> dict:
    """Every value the page shows for one state, built once."""
    result = compute(inputs)
    return {"figures": ui.cache.playground_figures(inputs, ui.SCREEN), "labels": result.labels,
            "verdicts": "## What happened\n" + "\n".join(f"- {line}" for line in ui.cache.verdict_lines(inputs)),
            "inspector": ui.cache.inspector_table(inputs, 0, False), "row check": ui.cache.row_check_table(inputs),
            "formula": ui.cache.inspector_formula(inputs, 0)}


def sidebar() -> Inputs:
    """The Playground's sidebar widgets, in its order, with its labels and keys; the floor reads only five."""
    text = " ".join(st.query_params.get("tokens", DEFAULT_TEXT).split()[:MAX_TOKENS_PER_SEQUENCE])
    defaults = {"padding": True, "constant": "-1e9", "dtype": "float32", "method": "add", "text": text,
                "pad_token": "<pad>", "padding_side": "right", "window": 0, "prefix_length": 0, "scale": True,
                "d_model": 8, "seed": 0, "qk_mode": list(QK_MODES)[0]}
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    sb = st.sidebar
    sb.markdown("**The mask** (1 = blocked, as in the tutorial)")
    padding = sb.toggle("Padding mask — block `<pad>` keys", key="padding")
    causal = sb.toggle("Causal (look-ahead) mask", key="causal")
    sb.selectbox("Mask constant", options=list(CONSTANT_PRESETS), key="constant")
    dtype = sb.selectbox("Number type (dtype)", options=list(DTYPE_NAMES), key="dtype", help="Rounded in this type.")
    sb.selectbox("Method", options=list(METHODS), key="method", help="How the mask reaches the logits.")
    sb.markdown("**The tokens**")
    sb.text_area("Token sequences — one per line, tokens split on spaces", key="text", height=130, help="Padded.")
    sb.text_input("Pad token (gets id 0)", key="pad_token", max_chars=32)
    sb.selectbox("Sequence to view", options=["1: " + text[:30]], key="sequence_box")
    sb.markdown("**More masks**")
    sb.toggle("…also mask padded queries (Keras / Flax)", key="mask_queries", help="Whole rows.")
    sb.segmented_control("Pad on the", options=PADDING_SIDES, key="padding_side", required=True, help="Side.")
    sb.number_input("Sliding window: keys seen (0 = off)", min_value=0, max_value=MAX_TOKENS_PER_SEQUENCE, step=1,
                    key="window", help="Window.")
    sb.number_input("Prefix LM: prefix length (0 = off)", min_value=0, max_value=MAX_TOKENS_PER_SEQUENCE, step=1,
                    key="prefix_length", help="Prefix.")
    sb.toggle("Pack the lines into one row", key="packed", help="Segments.")
    with sb.expander("Model: embeddings and projections"):
        scale = st.toggle("Scale logits by 1/√d", key="scale")
        st.select_slider("d_model", options=list(D_MODEL_CHOICES), key="d_model")
        st.number_input("Seed", min_value=0, step=1, key="seed")
        positional = st.toggle("Add positional encoding", key="positional")
        st.radio("Queries and keys", options=list(QK_MODES), key="qk_mode")
    sb.toggle("Presentation mode (a slide for projectors)", key="presentation")
    return Inputs(text=text, padding=padding, causal=causal, dtype=dtype, scale=scale, positional=positional)


def playground() -> None:
    inputs = sidebar()
    shown = content(inputs)
    figs, labels = shown["figures"], shown["labels"]
    config = figures.export_config("floor")

    def chart(name: str, **kwargs) -> None:
        st.plotly_chart(figs[name], key=name, config=config, theme=None, width=figs[name].layout.width, **kwargs)

    st.title("Playground")
    st.markdown("The Playground's elements, precomputed: what Streamlit itself costs per rerun.")
    with st.container(horizontal=True, gap="small"):
        for name in ("masked-logits", "weights"):
            chart(name, on_select="rerun", selection_mode="points")
    st.caption("Outlined cells are masked keys.")
    with st.container(horizontal=True, gap="small", vertical_alignment="top"):
        chart("mask")
        with st.container(width=470):
            st.markdown(shown["verdicts"])
            st.page_link(masks_page, label="Prove it", icon="🔬")
    st.markdown("## Where z comes from, stage by stage")
    with st.container(horizontal=True, gap="small"):
        for name in ("logits", "mask-term"):
            chart(name, on_select="rerun", selection_mode="points")
    st.subheader("Row inspector: one query's softmax, step by step")
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.selectbox("Query row (or click a cell above)", options=range(len(labels)), key="row",
                     format_func=lambda i: labels[i], width=320)
        st.toggle("Show the spacing", key="show_spacing", help="The gap to the next number.")
    st.dataframe(shown["inspector"], hide_index=True, width="stretch")
    st.caption("Every value is exact.")
    st.markdown(shown["formula"], unsafe_allow_html=True)
    st.subheader("Row check")
    st.dataframe(shown["row check"], hide_index=True, width="stretch")
    st.expander("The output: weights @ v, one row per query", key="open_output", on_change="rerun")
    st.expander("Every matrix as a table, and downloads", key="open_downloads", on_change="rerun")
    st.expander("The library function behind this page", key="open_library", on_change="rerun")


def never_run() -> None:
    st.write("Not part of the floor.")


ui.disable_nagle()               # the same transport as the Playground's server
st.set_page_config(page_title="floor", layout="wide")
ui.figure_style()                # the same CSS as the Playground's frame
pages = [st.Page(playground, title="Playground", default=True)] + [
    st.Page(never_run, title=title, url_path=f"p{i}") for i, title in enumerate(TITLES)]
masks_page = pages[2]
st.navigation(pages).run()
