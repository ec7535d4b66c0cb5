"""The shared sidebar: every control of ``Inputs``, and presentation mode.

Drawn by the frame (``app.py``) on every page, so its values hold across pages.
"""

from __future__ import annotations

import zlib

import streamlit as st

from ..attention import METHODS
from ..bias import BIAS_HEADS
from ..errors import MaskAttnError
from ..masks import WINDOW_RULES
from ..numerics import DTYPE_NAMES
from ..bias import BIAS_NAMES, compact_bias, parse_bias_matrix
from ..state import (CONSTANT_LABELS, CONSTANT_PRESETS, DEFAULT_TEXT, MAX_SEED, Inputs, View,
                     parse_constant, parse_positions)
from ..tokens import D_MODEL_CHOICES, MAX_TOKENS_PER_SEQUENCE, PADDING_SIDES, QK_MODES, tokenize
from .keys import Key
from .session import bias_text, current_inputs, current_view, keep_index_in_range, sync_url

#: short option labels: the sidebar is ~240 px wide (the help text has the whole story)
METHOD_LABELS = {
    "add": "add: x + mask × c (TF tutorial)",
    "fill": "fill: where(mask, c, x)",
    "safe": "safe: fill, empty rows → 0",
    "attend_all": "attend all: fill, empty rows see all",
    "multiply_weights": "mistake: × (1 − mask) after softmax",
    "zero_logits": "mistake: masked logits = 0",
}
assert set(METHOD_LABELS) == set(METHODS)
METHOD_HELP = ("**add**: `logits + mask * constant`, the TF tutorial, Keras 2, GPT-2. **fill**: "
               "`where(mask == 1, constant, logits)`, the Annotated Transformer's `masked_fill`, Flax. **safe**: fill, "
               "then rows with every key masked get weight 0 (PyTorch SDPA, Keras 3 `Softmax(mask=)`). **attend all**: fill, "
               "but a row with every key masked sees every key instead (Hugging Face's SDPA path before "
               "transformers 5, `_unmask_unattended`). The last two "
               "are classic mistakes, kept to show why they fail.")
QK_LABELS = {"projected": "Q, K, V = seeded projections", "shared": "Q = K = token vectors"}
WINDOW_RULE_LABELS = {"keys": "q − kv < w", "distance": "q − kv ≤ w"}
assert set(WINDOW_RULE_LABELS) == set(WINDOW_RULES)
WINDOW_RULE_HELP = ("**q − kv < w**: a query sees w keys, itself included (Hugging Face, Mistral's xformers "
                    "path). **q − kv ≤ w**: it sees w keys back, w + 1 in all (FlashAttention "
                    "`window_size=(w, 0)`, JAX `local_window_size`). The same number, one key apart.")


BIAS_HELP = ("A number added to each logit before the mask: the mask is the limit where that number is −∞. "
             "**ALiBi** (BLOOM, MPT): −m·(i − j), a slope m per head; **symmetric**: −m·|i − j|. **T5 buckets**: "
             "the offset falls in one of 32 buckets (exact up to 8, then logarithmic); T5 learns one number per "
             "bucket and head, here a fixed stand-in table (−m × the bucket's rank) is used.")


def _restore_example() -> None:
    st.session_state[Key.TEXT] = DEFAULT_TEXT
    st.session_state[Key.SEQUENCE] = 0
    st.session_state[Key.ROW] = 0


def _remove_drawn() -> None:
    st.session_state[Key.DRAWN] = ""


def restore_example_button() -> None:
    st.button("Restore the example sentences", on_click=_restore_example, type="primary")


def sequence_choices(text: str, pad_token: str, padding_side: str = "right", packed: bool = False) -> list[str]:
    """The "Sequence to view" options: the number and the first tokens of each row of the batch."""
    try:
        batch = tokenize(text, pad_token, padding_side=padding_side, packed=packed)
    except MaskAttnError:
        return ["1"]
    return [f"{i + 1}: {' '.join(seq[:6])}{' …' if len(seq) > 6 else ''}" for i, seq in enumerate(batch.tokens)]


def _checked(text_key: str, field_key: str, error_key: str, parse, kept) -> None:
    """A typed box's ``on_change``: ``parse`` its text into the field, or keep the field and say why."""
    try:
        st.session_state[field_key] = parse(st.session_state[text_key])
        st.session_state.pop(error_key, None)
    except MaskAttnError as err:
        st.session_state[error_key] = f"{err}. Kept {kept(st.session_state[field_key])}."


def _checked_box(widget, label: str, *, text_key: str, field_key: str, error_key: str, parse, kept, shown=str,
                 **options) -> None:
    """A text box whose text is checked into a field (``_checked``), its last refusal shown under it. ``shown``
    writes the field as the box first shows it."""
    if text_key not in st.session_state:
        st.session_state[text_key] = shown(st.session_state[field_key])
    widget(label, key=text_key, on_change=_checked, args=(text_key, field_key, error_key, parse, kept), **options)
    if st.session_state.get(error_key):
        st.sidebar.error(st.session_state[error_key])


def sidebar() -> tuple[Inputs, View]:
    """Draw the shared sidebar; return the current Inputs and View (and put them in the URL). The frame has read
    the URL first (``load_url_state``)."""
    sb = st.sidebar
    # what people change most first: at 1280×720 with the navigation above, these fit the first screen
    sb.markdown("**The mask** (1 = blocked, as in the tutorial)")
    sb.toggle("Padding mask — block `<pad>` keys", key=Key.PADDING)
    sb.toggle("Causal (look-ahead) mask", key=Key.CAUSAL)
    sb.selectbox("Mask constant", options=list(CONSTANT_PRESETS), key=Key.CONSTANT,
                 format_func=CONSTANT_LABELS.__getitem__)
    if st.session_state[Key.CONSTANT] == "custom":
        _checked_box(sb.text_input, "Custom constant", text_key=Key.CUSTOM_CONSTANT_TEXT,
                     field_key=Key.CUSTOM_CONSTANT, error_key=Key.CUSTOM_CONSTANT_ERROR, parse=parse_constant,
                     kept=lambda value: f"the previous value {value}",
                     help="Any number, e.g. -1e4, -3.4e38 or -inf. Positive numbers boost masked keys.")
    sb.selectbox("Number type (dtype)", options=list(DTYPE_NAMES), key=Key.DTYPE,
                 help="Every step is computed and rounded in this type, as a framework would.")
    sb.selectbox("Method", options=list(METHODS), key=Key.METHOD, format_func=METHOD_LABELS.__getitem__,
                 help=METHOD_HELP)

    sb.markdown("**The tokens**")
    sb.text_area("Token sequences — one per line, tokens split on spaces", key=Key.TEXT, height=130,
                 help="Shorter lines are right-padded with the pad token to the longest line.")
    sb.text_input("Pad token (gets id 0)", key=Key.PAD_TOKEN, max_chars=32)
    choices = sequence_choices(st.session_state[Key.TEXT], st.session_state[Key.PAD_TOKEN],
                               st.session_state[Key.PADDING_SIDE], st.session_state[Key.PACKED])
    keep_index_in_range(Key.SEQUENCE, len(choices))
    # the options are the labels themselves, and new labels make a new widget: the box never shows
    # the labels of the text before the last edit
    label = sb.selectbox("Sequence to view", options=choices, index=st.session_state[Key.SEQUENCE],
                         key=f"_sequence_{zlib.crc32(chr(10).join(choices).encode())}")
    st.session_state[Key.SEQUENCE] = choices.index(label) if label in choices else 0

    sb.markdown("**More masks**")
    sb.toggle("…also mask padded queries (Keras / Flax)", key=Key.MASK_QUERIES,
              help="Blocks whole rows of padded queries: this is how fully masked rows arise.")
    sb.segmented_control("Pad on the", options=PADDING_SIDES, key=Key.PADDING_SIDE, required=True,
                         help="**right**: after the tokens (the tutorial, training). **left**: before them, as "
                              "tokenizers do for generation; with a causal mask the first rows then see no key.")
    sb.number_input("Sliding window: keys seen (0 = off)", min_value=0, max_value=MAX_TOKENS_PER_SEQUENCE,
                    step=1, key=Key.WINDOW, help="Each query sees itself and the keys just before it (Mistral, "
                                                 "Gemma); causal by itself.")
    if st.session_state[Key.WINDOW]:
        sb.segmented_control("Window counted as", options=list(WINDOW_RULES), key=Key.WINDOW_RULE, required=True,
                             format_func=WINDOW_RULE_LABELS.__getitem__, help=WINDOW_RULE_HELP)
    if st.session_state[Key.WINDOW]:
        causal_part = current_inputs().looks_causal
        sb.number_input("…and keys ahead (two-sided window)", min_value=0, max_value=MAX_TOKENS_PER_SEQUENCE, step=1,
                        key=Key.WINDOW_RIGHT, disabled=causal_part,
                        help="Longformer's local attention, JAX `local_window_size=(left, right)`: each query also "
                             "sees this many keys after it. " + ("Off while a causal part (causal, prefix LM, chunks, "
                                                                 "shared prefix) blocks the future." if causal_part
                                                                 else "0 = a causal window."))
    sb.number_input("Chunked attention: chunk size (0 = off)", min_value=0, max_value=MAX_TOKENS_PER_SEQUENCE, step=1,
                    key=Key.CHUNK, help="Llama 4's local layers: a query sees only the keys of its own chunk, "
                                        "causally. Chunks start at the first real token (left pads before them).")
    if st.session_state[Key.WINDOW] or st.session_state[Key.CHUNK]:
        _checked_box(sb.text_input, "Global tokens: positions, e.g. 0,5", text_key=Key.GLOBAL_TEXT,
                     field_key=Key.GLOBAL_TOKENS, error_key=Key.GLOBAL_ERROR,
                     parse=lambda raw: ",".join(map(str, parse_positions(raw))),
                     kept=lambda value: f"the previous positions: {value or 'none'}", max_chars=200,
                     help="Longformer, BigBird: these tokens see every key and every query sees them, past the "
                          "window or chunks (never past padding or the future).")
    sb.number_input("Shared prefix: its length (0 = off)", min_value=0, max_value=MAX_TOKENS_PER_SEQUENCE, step=1,
                    key=Key.SHARED_PREFIX, help="Several completions of one prompt in one row (beam or tree "
                                                "decoding): each sees the prefix and itself, never a sibling.")
    if st.session_state[Key.SHARED_PREFIX]:
        sb.number_input("…completions after it", min_value=1, max_value=MAX_TOKENS_PER_SEQUENCE, step=1,
                        key=Key.COMPLETIONS, help="The rest of the row split evenly, the longer ones first.")
    sb.number_input("Prefix LM: prefix length (0 = off)", min_value=0, max_value=MAX_TOKENS_PER_SEQUENCE, step=1,
                    key=Key.PREFIX_LENGTH, help="Every query sees the first keys (T5's inputs, PaliGemma's image "
                                                "and prompt); causal after them.")
    sb.toggle("Pack the lines into one row", key=Key.PACKED,
              help="One row of documents told apart by segment ids, instead of a padded batch.")
    if st.session_state[Key.PACKED]:
        sb.toggle("…with a document mask", key=Key.DOCUMENT_MASK,
                  help="Block the keys of other documents. Off: the documents see each other.")
    sb.selectbox("Position bias (added before the mask)", options=list(BIAS_NAMES), key=Key.BIAS,
                 format_func=BIAS_NAMES.__getitem__, help=BIAS_HELP)
    if st.session_state[Key.BIAS] == "typed":
        _checked_box(sb.text_area, "Bias matrix: a row per query, −inf masks a cell", text_key=Key.BIAS_TEXT,
                     field_key=Key.BIAS_MATRIX, error_key=Key.BIAS_ERROR,
                     parse=lambda raw: compact_bias(parse_bias_matrix(raw)),
                     kept=lambda value: "the previous matrix" if value else "no matrix", shown=bias_text, height=110,
                     placeholder="0 -1 -2\n-1 0 -1\n-inf -1 0",
                     help="As many rows and numbers as tokens. Any number tilts its cell; −inf is a mask. "
                          "NaN and +inf are refused.")
    elif st.session_state[Key.BIAS] != "off":
        sb.slider("…of head", min_value=1, max_value=BIAS_HEADS, step=1, key=Key.BIAS_HEAD,
                  help=f"Each of the {BIAS_HEADS} heads has its own slope m = 2^(−h): head 1 looks nearest, "
                       f"head {BIAS_HEADS} almost evenly.")
    if st.session_state.get(Key.DRAWN):
        size = st.session_state[Key.DRAWN].count("-") + 1
        sb.caption(f"A {size}×{size} mask drawn on the Masks page is on.")
        sb.button("Remove the drawn mask", on_click=_remove_drawn)

    with sb.expander("Model: embeddings and projections"):
        st.toggle("Scale logits by 1/√d", key=Key.SCALE)
        st.select_slider("d_model", options=list(D_MODEL_CHOICES), key=Key.D_MODEL)
        st.number_input("Seed", min_value=0, max_value=MAX_SEED, step=1, key=Key.SEED)
        st.toggle("Add positional encoding", key=Key.POSITIONAL)
        st.radio("Queries and keys", options=list(QK_MODES), key=Key.QK_MODE, format_func=QK_LABELS.__getitem__)
    sb.toggle("Presentation mode (a slide for projectors)", key=Key.PRESENTATION)

    inputs, view = current_inputs(), current_view()
    sync_url(inputs, view)
    return inputs, view
