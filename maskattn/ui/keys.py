"""Every ``st.session_state`` key the app uses, in one typed namespace.

The sidebar's widgets are keyed by the field names of ``state.Inputs`` and ``state.View``
(so a URL parameter, a field and a widget share one name): those keys are made from the
fields (``Key.CAUSAL == "causal"``), so a new control needs no line here. Everything else a
page keeps in the session is named here, so a reader finds each key by one search and a typo is
an ``AttributeError``, not a silently new key.

>>> Key.ROW, Key.CAUSAL, Key.LAB_ZOOM
('row', 'causal', 'lab_zoom')
"""

from __future__ import annotations

from dataclasses import fields
from typing import Final

from ..state import Inputs, View


class Key:
    """Session-state keys. Inputs and View fields first (they are also widget keys)."""

    # every Inputs and View field is a key too, made from the fields below the class: Key.TEXT == "text", …

    # the sidebar's own bookkeeping
    CUSTOM_CONSTANT_TEXT: Final = "custom_constant_text"   # the text box behind CUSTOM_CONSTANT
    CUSTOM_CONSTANT_ERROR: Final = "_custom_error"         # why the last typed constant was refused
    GLOBAL_TEXT: Final = "global_text"                     # the text box behind GLOBAL_TOKENS
    BIAS_TEXT: Final = "bias_text"                         # the text box behind BIAS_MATRIX
    BIAS_ERROR: Final = "_bias_error"                      # why the last typed bias matrix was refused
    GLOBAL_ERROR: Final = "_global_error"                  # why the last typed positions were refused
    URL_NOTICES: Final = "_url_notices"                    # refused URL parameters, shown once
    URL_LOADED: Final = "_url_loaded"                      # the URL was read in this browser session
    URL_WRITTEN: Final = "_url_written"                    # the parameters this session last put in the URL

    # Playground
    SHOW_SPACING: Final = "show_spacing"
    OPEN_DOWNLOADS: Final = "open_downloads"
    SHOW_TABLES: Final = "show_tables"
    OPEN_LIBRARY: Final = "open_library"
    OPEN_OUTPUT: Final = "open_output"
    OPEN_MORE: Final = "open_more"                          # presentation mode: the rest of the story
    HIDE_STORY: Final = "hide_story"                        # dismiss a preset's context and question

    # Constant lab
    LAB_SOURCE: Final = "lab_source"
    LAB_ROW: Final = "lab_row"
    LAB_CONSTANT: Final = "lab_constant"
    LAB_SCORES_TEXT: Final = "lab_scores_text"
    LAB_SCORES_OK: Final = "lab_scores_ok"
    LAB_MASKED: Final = "lab_masked"                        # + the number of keys: one list per row length
    LAB_ZOOM: Final = "lab_zoom"
    LAB_NAIVE: Final = "lab_naive"

    # Masks
    DRAWN_TEXT: Final = "drawn_text"                        # the typed 0/1 matrix
    DRAWN_ERROR: Final = "_drawn_error"                     # why the last typed matrix was refused
    DRAWN_CHART: Final = "drawn_chart"                      # + a hash of the mask: a fresh chart per mask
    DRAWN_ROW: Final = "drawn_row"                          # + the mask's hash and the row: per-row editors
    OPEN_DRAWN_ROWS: Final = "open_drawn_rows"
    HEADS: Final = "masks_heads"                            # heads in the broadcasting view
    BIAS_STEP: Final = "masks_bias_step"                    # the one key's bias on the "bias of −∞" slider
    MASKS_OPEN_PLAYGROUND: Final = "_masks_open_playground"  # "Open in the Playground" was clicked

    # Classroom
    OPEN_PLAYGROUND: Final = "_classroom_open_playground"   # a preset was just loaded: go to the Playground

    # Conventions
    CONV_SOURCE: Final = "conv_source"                      # the polarity check: the mask's convention
    CONV_TARGET: Final = "conv_target"                      # ... and the framework it goes to
    CONV_TEXT: Final = "conv_text"                          # + the source and the mask's crc: the pasted mask
    CONV_NUM_QUERIES: Final = "conv_num_queries"            # + the length: queries in the KV-cache view
    CONV_MASK_FRAMEWORK: Final = "conv_mask_framework"      # whose code builds the newer masks
    CONV_FRAMEWORK: Final = "conv_framework"                # whose code reproduces the weights

    # In a real model
    OPEN_MODEL: Final = "_classroom_open_model"             # a real-model preset was just loaded: go to its page
    OPEN_MASKS: Final = "_classroom_open_masks"             # a Masks-page preset was just loaded: go to its page
    OPEN_MODEL_CONSTANTS: Final = "open_model_constants"

    # Proof
    PROOF_AMOUNT: Final = "proof_amount"                    # the leak test's noise size (its slider)
    PROOF_AMOUNT_TEXT: Final = "proof_amount_text"          # the same size, typed
    PROOF_AMOUNT_ERROR: Final = "_proof_amount_error"       # why the last typed size was refused
    PROOF_SEED: Final = "proof_seed"                        # the noise's seed: "shake" draws a new one
    PROOF_TARGET: Final = "proof_target"                    # shake the padding, or change a future token
    PROOF_TOKEN: Final = "proof_token"                      # the future token to change


#: the widget key of each Inputs / View field (the field's own name)
INPUT_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Inputs))
VIEW_KEYS: tuple[str, ...] = tuple(f.name for f in fields(View))
for _name in INPUT_KEYS + VIEW_KEYS:
    setattr(Key, _name.upper(), _name)             # a field, its URL codec and its widget share one name


def chart_key(name: str) -> str:
    """The element key of a Playground chart (its selection lives under it in session_state).

    >>> chart_key("weights")
    'chart_weights'
    """
    return f"chart_{name}"

