"""In a real model: all-MiniLM-L6-v2 run by the app's own attention core, where forgetting the padding mask changes
what a sentence means."""

import numpy as np
import pandas as pd
import streamlit as st

from maskattn import MaskAttnError, figures, model, ui
from maskattn.figures.heatmap import room_width
from maskattn.figures.model import drift_figure, short_name
from maskattn.presets import PRESETS
from maskattn.state import resolve_constant
from maskattn.tokens import position_labels
from maskattn.ui import Key, cache

page = ui.page(
    "In a real model",
    "Every other page uses random token vectors. Here the sidebar's lines are **sentences** for "
    "[all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), a real 6-layer sentence "
    "encoder (12 heads, d = 384), batched and padded with `[PAD]` to the longest. Every one of its attention layers "
    "is computed by this app's own core with the sidebar's padding switch, constant, method and dtype — the "
    "tutorial's `mask * -1e9` in a real network.", presenting="title", compute=False)
inputs, view, look, big = page.inputs, page.view, page.look, page.big
#: up to this many tokens the four attention panels sit two abreast at 1280×720 with the sidebar open
TWO_ABREAST_TOKENS = 12
GAP = 16                                   # px between panels in a row (Streamlit's "small" gap, with a margin)

story = next((p for p in PRESETS if p.slug == view.preset and p.page == "model"), None)
if story is not None:                     # a classroom preset: its context and its question stay with it
    with st.container(border=True):
        st.markdown(f"**{ui.md_escape(story.title)}** — {ui.md_escape(story.context)}  \n"
                    f"**Ask the class:** {ui.md_escape(story.question)}")
        st.button("Hide this story", key=Key.HIDE_STORY, on_click=lambda: st.session_state.update({Key.PRESET: ""}))

try:
    cache.model_encoder()
except MaskAttnError as err:               # the weights package is not installed: say the one command
    st.error(f"{err}. The other pages do not need it.", icon="📦")
    st.stop()

sentences, notices = model.sentences_from_text(inputs.text, inputs.pad_token)
for notice in notices:
    st.info(notice, icon="✂️")
mask_value = resolve_constant(inputs.constant, inputs.custom_constant, inputs.dtype)
try:
    effect = cache.model_effect(sentences, inputs.padding, mask_value, inputs.method, inputs.dtype)
except MaskAttnError as err:
    st.warning(f"{err}. Type one sentence per line in the sidebar.", icon="✍️")
    st.stop()
run = effect.batch
if any(run.truncated):
    cut = [i + 1 for i, t in enumerate(run.truncated) if t]
    st.info(f"Sentence {', '.join(map(str, cut))} was cut to {model.PAGE_MAX_TOKENS} WordPiece tokens ([CLS] and "
            "[SEP] included), so the pictures stay readable.", icon="✂️")
names = [f"{b + 1}: {short_name(s)}" for b, s in enumerate(run.sentences)]
setting = model.setting_name(run.padding_mask, run.mask_value, run.method, run.dtype)

# does the mask matter? -------------------------------------------------------------------------------------------
st.header("Does the mask matter?")
lines = model.verdict(effect)
st.markdown("\n".join(f"- {ui.md_escape(line)}" for line in lines if not line.startswith("Meaning:")))
ui.chart(drift_figure(names, effect.drift, effect.drift_unmasked, setting=setting.split(" (")[0],
                      title="Each sentence in the batch against itself alone", font_size=look.font_size),
         key="model-drift", filename="real-model-drift")
st.caption("The largest change of any of the sentence's hidden-state numbers, over its real tokens, after each "
           "layer: solid with the sidebar's setting, dashed with no mask. 0 (exactly equal) has no place on a log "
           "axis, so it has its own strip below, and NaN its own strip above.")
st.dataframe(pd.DataFrame({
    "#": list(range(1, len(run.sentences) + 1)), "sentence": list(run.sentences), "tokens": run.lengths.tolist(),
    "[PAD]": (run.real.shape[1] - run.lengths).tolist(),
    "largest change, this setting": effect.drift[:, -1], "cosine to itself alone": effect.cosine,
    "largest change, no mask": effect.drift_unmasked[:, -1], "cosine, no mask": effect.cosine_unmasked,
    "most weight on [PAD]": effect.leaked}), hide_index=True, width="stretch",
    column_config={"cosine to itself alone": st.column_config.NumberColumn(format="%.6f"),
                   "cosine, no mask": st.column_config.NumberColumn(format="%.6f"),
                   "largest change, this setting": st.column_config.NumberColumn(format="%.3g"),
                   "largest change, no mask": st.column_config.NumberColumn(format="%.3g"),
                   "most weight on [PAD]": st.column_config.NumberColumn(format="%.3g")})

# what the model sees ---------------------------------------------------------------------------------------------
st.header("What the model sees")
B, T = run.ids.shape
b = min(inputs.sequence, B - 1)
with st.container(horizontal=True, gap="medium"):
    st.selectbox("Layer", options=list(range(1, model.Config().layers + 1)), key=Key.LAYER, width=140)
    st.selectbox("Head", options=list(range(1, model.Config().heads + 1)), key=Key.HEAD, width=140)
layer, head = run.layers[view.layer - 1], view.head - 1
labels = position_labels(run.tokens[b])
pads = np.broadcast_to(run.mask[b, 0], (T, T))                      # (T, T) 1 on [PAD] keys
case = f"sentence {b + 1}, layer {view.layer}, head {view.head}"
st.markdown(f"Sentence {b + 1} (the sidebar's *Sequence to view*), layer {view.layer}, head {view.head}: real "
            "learned attention. Padded keys are outlined; a weight left on one is flagged.")
room = look.room or 800
wide = room_width(T, T, x_labels=labels, y_labels=labels, base=look.panel_width, room=room,
                  font_size=look.font_size, subtitle=True)
# two abreast while a cell keeps a short number; one per row (up to the room) for a long sentence
size = dict(font_size=look.font_size, width=wide if T > TWO_ABREAST_TOKENS else min(wide, (room - GAP) // 2),
            subtitle=case, dtype=run.dtype)
raw = layer.logits[b, head].astype(np.float64)
scale = figures.colour_range(raw, figures.special_codes(raw), symmetric=True)
with st.container(horizontal=True, gap="small"):
    ui.chart(figures.heatmap(layer.masked_logits[b, head], labels, labels, title="masked logits z = x + mask × c",
                             kind="scores", mask=pads, zrange=scale, **size), key="model-masked", filename="model-z")
    ui.chart(figures.heatmap(layer.weights[b, head], labels, labels, title="softmax weights", kind="weights",
                             mask=pads, zrange=(0.0, 1.0), **size), key="model-weights", filename="model-weights")
with st.container(horizontal=True, gap="small"):
    ui.chart(figures.heatmap(layer.logits[b, head], labels, labels, title="raw logits x = q·kᵀ/√d", kind="scores",
                             **size), key="model-logits", filename="model-logits")
    ui.chart(figures.heatmap(layer.mask_term[b, head], labels, labels, title="mask term", kind="term", mask=pads,
                             **size), key="model-term", filename="model-mask-term")
if run.padding_mask and run.method == "add":
    st.caption("−0 in the mask term is 0 × (a negative constant): IEEE arithmetic keeps the sign, and adding −0 to "
               "a logit leaves it exactly as it was.")

# meaning ---------------------------------------------------------------------------------------------------------
st.header("Meaning: which sentences are alike")
st.markdown("The cosine similarity of the sentence embeddings (the mean of the last hidden states over the real "
            "tokens, as the model's own pooling does): each sentence alone, in the batch with the sidebar's "
            "setting, and in the batch with no mask.")
sim_size = dict(font_size=look.font_size, width=(room - 2 * GAP) // 3, zrange=(-1.0, 1.0), kind="values",
                x_title="sentence (numbered as in the table)", y_title="sentence", dtype="float64")
numbers = [str(b + 1) for b in range(len(run.sentences))]
with st.container(horizontal=True, gap="small"):
    for which, title in (("alone", "each sentence alone"), ("batch", "in the batch, this setting"),
                         ("unmasked", "in the batch, no mask")):
        ui.chart(figures.heatmap(effect.similarity(which), numbers, numbers, title=f"cosine: {title}", **sim_size),
                 key=f"model-sim-{which}", filename=f"model-similarity-{which}")
moved = [line for line in lines if line.startswith("Meaning:")]
st.markdown("\n".join(f"- {ui.md_escape(line)}" for line in moved) if moved else
            "Every sentence keeps its nearest neighbour" + ("." if len(sentences) >= 3 else
                                                           " (type three or more sentences to compare ranks)."))

# the constant ----------------------------------------------------------------------------------------------------
st.header("The constant in a real model")
st.markdown("Hugging Face masks with the dtype's own minimum, `torch.finfo(dtype).min`, not −1e9. In float16 the "
            "tutorial's −1e9 does not fit: it becomes −inf, and with the add method 0 × −inf = NaN in every cell "
            "the mask does not block, so the whole batch turns NaN through all six layers; float16's own minimum "
            "(−65504) gives a clean run.")
table = st.expander("Run the batch in float32, float16 and bfloat16 with both constants", key=Key.OPEN_MODEL_CONSTANTS,
                    on_change="rerun")
if table.open:
    with table:
        rows = cache.model_constants(sentences, inputs.method)
        st.dataframe(pd.DataFrame({
            "dtype": [r.dtype for r in rows], "constant": [r.label for r in rows],
            "NaN in the hidden states": ["yes: every number" if r.nan else "no" for r in rows],
            "largest change of a padded sentence": [r.largest_drift for r in rows],
            "lowest cosine to itself alone": [r.lowest_cosine for r in rows]}), hide_index=True, width="stretch",
            column_config={"largest change of a padded sentence": st.column_config.NumberColumn(format="%.3g"),
                           "lowest cosine to itself alone": st.column_config.NumberColumn(format="%.6f")})
        st.caption(f"Method {inputs.method}, the padding mask on, each padded sentence against itself alone in "
                   "the same dtype.")

st.caption("Model: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), weights from the installed package "
           f"{model.WEIGHTS_PACKAGE}; tokens by its own WordPiece tokenizer, at most {model.PAGE_MAX_TOKENS} per "
           f"sentence and {model.PAGE_MAX_SENTENCES} sentences here.")
