"""The naive floor: the Streamlit page a first attempt at this app would be.

One sidebar toggle (the causal mask, with the Playground's label), four ``st.columns``, and in
them four ``st.plotly_chart(px.imshow(m, text_auto=".2g"))`` of T×T float32 matrices — the mask,
the logits, the masked logits and the softmax weights — with the last half of the keys masked
(T = 6: the last three, like the Playground's default sequence), everything recomputed on every
rerun. ``bench_click.py`` compares the Playground's causal toggle with this page's, in the same
run. It runs on the same transport as the app (``TCP_NODELAY``, see ``maskattn.ui.disable_nagle``),
so the comparison measures the page, not Nagle's algorithm.

``?term=1`` adds a fifth panel, the mask term ``mask × -1e9``, between the logits and the masked
logits, as the Playground draws it: the same number of panels changing per toggle as ours (four),
to tell the cost of the page from the cost of one more panel.

Run alone:  streamlit run benchmarks/naive_floor_app.py  (then open /?T=64 or /?term=1)
"""

from pathlib import Path
import sys

import numpy as np
import plotly.express as px
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maskattn.ui import disable_nagle  # noqa: E402

DEFAULT_T = 6
disable_nagle()
try:
    T = min(max(int(st.query_params.get("T", DEFAULT_T)), 2), 256)
except ValueError:
    T = DEFAULT_T
causal = st.sidebar.toggle("Causal (look-ahead) mask", key="causal")

rng = np.random.default_rng(0)
q, k = rng.standard_normal((2, T, 16)).astype(np.float32)
logits = (q @ k.T / np.float32(4.0)).astype(np.float32)                 # (T, T)
mask = np.zeros((T, T), np.float32)
mask[:, T - T // 2:] = 1.0                                              # the last half of the keys
if causal:
    mask = np.maximum(mask, np.triu(np.ones((T, T), np.float32), k=1))
masked = (logits + mask * np.float32(-1e9)).astype(np.float32)
shifted = masked - masked.max(axis=-1, keepdims=True)
weights = (np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)).astype(np.float32)

panels = [("mask", mask), ("logits", logits), ("masked logits", masked), ("softmax weights", weights)]
if st.query_params.get("term") == "1":
    panels.insert(2, ("mask term", (mask * np.float32(-1e9)).astype(np.float32)))
st.title("Naive floor")
for column, (name, m) in zip(st.columns(len(panels)), panels):
    with column:
        st.plotly_chart(px.imshow(m, text_auto=".2g", title=name), key=name)
