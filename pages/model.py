"""In a real model: all-MiniLM-L6-v2 run by the app's own attention core, where forgetting the padding mask changes
what a sentence means."""

import pandas as pd
import streamlit as st

from maskattn import MaskAttnError, model, ui
from maskattn.figures.model import SIMILARITIES
from maskattn.state import resolve_constant
from maskattn.text import spell
from maskattn.ui import Key, cache

page = ui.page(
    "In a real model",
    "Every other page uses random token vectors. Here the sidebar's lines are **sentences** for "
    "[all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), a real 6-layer sentence "
    "encoder (12 heads, d = 384), batched and padded with `[PAD]` to the longest. Every one of its attention layers "
    "is computed by this app's own core with the sidebar's padding switch, constant, method and dtype — the "
    "tutorial's `mask * -1e9` in a real network.", presenting="title", compute=False)
inputs, view, look, big = page.inputs, page.view, page.look, page.big

ui.preset_story(inputs, view, "model")   # a classroom preset: its context and question stay with it

try:
    cache.model_encoder()
except MaskAttnError as err:               # the weights package is not installed: say the one command
    st.error(f"{err}. The other pages do not need it.", icon="📦")
    st.stop()

mask_value = resolve_constant(inputs.constant, inputs.custom_constant, inputs.dtype)
try:
    sentences, notices = model.sentences_from_text(inputs.text, inputs.pad_token)   # the app's caps and notices
    for notice in notices:
        st.info(notice, icon="✂️")
    effect = cache.model_effect(sentences, inputs.padding, mask_value, inputs.method, inputs.dtype, inputs.causal)
except MaskAttnError as err:
    st.warning(f"{err}. Type one sentence per line in the sidebar.", icon="✍️")
    ui.restore_example_button()
    st.stop()
run = effect.batch
if any(run.truncated):
    cut = [i + 1 for i, t in enumerate(run.truncated) if t]
    st.info(f"Sentence {', '.join(map(str, cut))} was cut to {model.PAGE_MAX_TOKENS} WordPiece tokens ([CLS] and "
            "[SEP] included), so the pictures stay readable.", icon="✂️")
state = (sentences, inputs.padding, mask_value, inputs.method, inputs.dtype, inputs.causal)   # the numbers' inputs
figs = cache.model_figures(*state, look)

# does the mask matter? -------------------------------------------------------------------------------------------
st.header("Does the mask matter?")
lines, moved = cache.model_verdict(*state)
st.markdown("\n".join(f"- {ui.md_escape(line)}" for line in lines))
ui.chart(figs["drift"], key="model-drift", filename="real-model-drift")
st.caption("The largest change of any of the sentence's hidden-state numbers, over its real tokens, after each "
           "layer: solid with the sidebar's setting, dashed without the padding mask. 0 (exactly equal) has no "
           "place on a log axis, so it has its own strip below, and NaN its own strip above.")
st.dataframe(pd.DataFrame({
    "#": list(range(1, len(run.sentences) + 1)), "sentence": list(run.sentences), "tokens": run.lengths.tolist(),
    "[PAD]": (run.real.shape[1] - run.lengths).tolist(),
    "largest change, this setting": [spell(x, digits=3) for x in effect.drift[:, -1]],
    "cosine to itself alone": [spell(x, digits=6) for x in effect.cosine],
    "largest change, no padding mask": [spell(x, digits=3) for x in effect.drift_unmasked[:, -1]],
    "cosine, no padding mask": [spell(x, digits=6) for x in effect.cosine_unmasked],
    "most weight on [PAD]": [spell(x, digits=3) for x in effect.leaked]}), hide_index=True, width="stretch")
st.caption("Every number as computed (NaN where the run gave NaN). “Most weight on [PAD]”: the largest share of "
           "its attention that one of the sentence's real tokens gives the [PAD] keys, in any layer and head.")

# what the model sees ---------------------------------------------------------------------------------------------
st.header("What the model sees")
b = min(inputs.sequence, len(run.sentences) - 1)
with st.container(horizontal=True, gap="medium"):
    st.selectbox("Layer", options=list(range(1, model.Config().layers + 1)), key=Key.LAYER, width=140)
    st.selectbox("Head", options=list(range(1, model.Config().heads + 1)), key=Key.HEAD, width=140)
st.markdown(f"Sentence {b + 1} (the sidebar's *Sequence to view*), layer {view.layer}, head {view.head}: real "
            "learned attention. Padded keys are outlined; a weight left on one is flagged.")
heads = cache.model_head_figures(*state, b, view.layer, view.head, look)
for pair in (("masked-logits", "weights"), ("logits", "mask-term")):
    with st.container(horizontal=True, gap="small"):
        for name in pair:
            ui.chart(heads[name], key=f"model-{name}", filename=f"real-model-{name}")
if run.method == "add" and run.mask_value < 0 and (run.padding_mask or run.causal):
    st.caption("−0 in the mask term is 0 × (a negative constant): IEEE arithmetic keeps the sign, and adding −0 to "
               "a logit leaves it exactly as it was.")

# meaning ---------------------------------------------------------------------------------------------------------
st.header("Meaning: which sentences are alike")
st.markdown("The cosine similarity of the sentence embeddings (the mean of the last hidden states over the real "
            "tokens, as the model's own pooling does): each sentence alone, in the batch with the sidebar's "
            "setting, and in the batch with no mask.")
with st.container(horizontal=True, gap="small"):
    for which in SIMILARITIES:
        ui.chart(figs[f"similarity-{which}"], key=f"model-sim-{which}", filename=f"real-model-similarity-{which}")
st.markdown("\n".join(f"- {ui.md_escape(line)}" for line in moved))

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
