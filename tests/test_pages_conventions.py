"""The Conventions page through Streamlit's AppTest: masks per framework, polarity check, code, bad input."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from apptest_helpers import AppTest   # with Streamlit's Keras clean-up skipped (apptest_helpers)

from maskattn import codegen, frameworks
from maskattn.pipeline import compute
from maskattn.state import Inputs

TIMEOUT = 60
APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/conventions.py"


# AppTest quirk (Streamlit 1.67 + st.navigation, see test_pages_playground.py): after the page switch the
# frame's sidebar values are lost on the next rerun. So the sidebar state comes from the URL and the
# page's own widgets are seeded through session_state before the one run that is checked.
def open_page(widgets=None, **query) -> AppTest:
    """The app seeded from the URL (the shared sidebar's state), switched to the Conventions page."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    for key, value in (widgets or {}).items():
        at.session_state[key] = value
    return at.switch_page(PAGE).run()


def figures(at) -> dict:
    """Charts by their full title: a two-line title's second line is drawn as the subtitle."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    out = {}
    for spec in specs:
        title = spec["layout"]["title"]
        sub = title.get("subtitle", {}).get("text")
        out[title["text"] + (f"<br>{sub}" if sub else "")] = spec
    return out


def decode(z):
    if isinstance(z, list):
        return np.array(z, dtype=np.float64)
    shape = tuple(int(n) for n in str(z["shape"]).split(","))
    return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(shape)


def test_default_page_draws_every_framework_and_convention_without_errors():
    at = open_page()
    assert not at.exception
    figs = figures(at)
    for fw in frameworks.all_frameworks():                      # one weights panel per registry entry
        title = f"{fw.name}{' · default' if fw.default else ''}<br>{fw.path}"
        assert title in figs, title
    masks = {k: v for k, v in figs.items() if "1 = " in k}
    attend = next(v for k, v in masks.items() if k.startswith("bool<br>1 = attend"))["data"][0]
    blocked = next(v for k, v in masks.items() if k.startswith("bool<br>1 = blocked"))["data"][0]
    # default state: "the cat sat" + 3 pads, padding mask on -> pad keys blocked
    assert attend["text"][0] == ["True"] * 3 + ["False"] * 3
    assert blocked["text"][0] == ["False"] * 3 + ["True"] * 3
    assert decode(attend["z"]).tolist() == decode(blocked["z"]).tolist()      # same colours: same meaning
    assert len(at.code) == 2 and "import numpy as np" in at.code[-1].value      # the newer masks' code, the snippet
    assert "create_block_mask" in at.code[0].value


def test_float16_panels_show_what_each_real_layer_returns():
    at = open_page(dtype="float16", qpad="1")
    assert not at.exception
    figs = figures(at)
    tf = decode(figs["TensorFlow · default<br>the tutorial's function"]["data"][0]["z"])
    keras3 = decode(figs["Keras<br>Softmax(mask=) scores path"]["data"][0]["z"])
    assert np.isnan(tf).any() and not np.isnan(keras3).any()            # TF: 0 × -inf = NaN; Keras 3: no NaN
    assert any("c10::Half" in e.value for e in at.error)                 # the Annotated Transformer raises
    # TF's float16 rows with an open key are NaN throughout (the common case); the caption says which vary by CPU
    result = compute(Inputs(dtype="float16", mask_queries=True))
    assert np.isnan(tf[(result.mask == 0).any(axis=-1)]).all()
    varies = int(frameworks.get("tf_tutorial").cpu_dependent(result.steps.logits, result.mask, "float16").sum())
    assert varies > 0 and any(frameworks.cpu_note(varies) in c.value for c in at.caption)


def test_tensorflow_code_in_float16_names_cpu_cells_apart_from_a_masking_difference():
    at = open_page({"conv_framework": "tf_tutorial"}, dtype="float16")
    assert not at.exception
    assert not any("masks its own way" in w.value for w in at.warning)     # TF masks as the Playground does
    assert any(i.value.startswith("Rows ") and "on some CPUs" in i.value for i in at.info)


def test_polarity_check_flags_an_sdpa_mask_sent_to_multihead_attention():
    at = open_page(causal="1")
    assert not at.exception
    assert any(e.value.startswith("Inverted") for e in at.error)
    figs = figures(at)
    right = decode(figs["what you meant (mask converted correctly)"]["data"][0]["z"])
    wrong = decode(figs["what the framework computes (mask as written)"]["data"][0]["z"])
    assert right[0].tolist() == [1.0, 0, 0, 0, 0, 0]                     # causal: token 0 sees itself only
    assert wrong[0, 0] == 0 and wrong[0, 1:].sum() == pytest.approx(1.0, abs=1e-6)    # it sees the future
    assert wrong[0, 3:].sum() > 0                                           # ... and the pads


def test_polarity_check_ok_when_the_conventions_agree():
    at = open_page({"conv_target": "torch_sdpa"}, causal="1")
    assert not at.exception
    assert any(s.value.startswith("Correct") for s in at.success)


def test_a_bad_pasted_mask_is_an_error_message_not_a_traceback():
    at = open_page()
    area = [t for t in at.text_area if t.key and t.key.startswith("conv_text_")][0]
    area.set_value("1 0 banana").run()
    assert not at.exception
    assert any("banana" in e.value for e in at.error)


@pytest.mark.parametrize("framework", list(codegen.FRAMEWORKS))
def test_each_framework_gets_its_code(framework):
    at = open_page({"conv_framework": framework}, causal="1", qpad="1")
    assert not at.exception
    source = at.code[-1].value
    state = codegen.state_from_result(compute(Inputs(causal=True, mask_queries=True)))
    assert source.rstrip() == codegen.generate(state, framework).rstrip()    # st.code drops the last newline
    # padded query rows are fully masked: PyTorch gives zeros (SDPA, FlexAttention) or NaN (MHA) where the app's
    # float32 −1e9 and JAX's where(−0.7·finfo(float32).max) both give uniform rows
    differs = any("differ from the Playground" in w.value for w in at.warning)
    assert differs == (framework in ("torch_sdpa", "torch_mha", "torch_flex"))


NEWER_QUERY = {"tokens": "the cat sat\n<pad> dog ran home\nbirds sing", "packed": "1", "causal": "1", "window": "3",
               "prefix": "2", "drawn": "-".join(["000000000"] * 8 + ["100000000"])}


def test_every_newer_mask_gets_its_code_in_every_framework_and_no_leaves_out_note():
    at = open_page({"conv_framework": "torch_flex"}, **NEWER_QUERY)
    assert not at.exception
    result = compute(Inputs(text=NEWER_QUERY["tokens"], packed=True, causal=True, window=3, prefix_length=2,
                            drawn=NEWER_QUERY["drawn"]))
    state = codegen.state_from_result(result)
    table = next(t.value for t in at.table if "sliding window" in t.value.columns)   # each newer mask, per framework
    assert list(table.columns) == ["prefix LM", "sliding window", "packed documents", "any mask (drawn)"]
    assert set(table.index) == {fw.title for fw in frameworks.all_frameworks()}                  # one row per framework
    assert "local_window_size=(2, 0)" in table.loc[frameworks.get("jax").title, "sliding window"]   # 3 keys: distance 2
    assert "sliding_window=3" in table.loc[frameworks.get("hf_sdpa").title, "sliding window"]
    mask_code = at.code[0].value                                     # FlexAttention's mask_mod, the default choice
    assert mask_code.rstrip() == codegen.mask_code(state, "torch_flex").rstrip()
    source = at.code[1].value
    assert source.rstrip() == codegen.generate(state, "torch_flex").rstrip()
    assert not any("not in it yet" in i.value for i in at.info)      # the code covers every mask
    assert any("same weights as the Playground" in s.value for s in at.success) or at.warning


@pytest.mark.parametrize("key", ["jax", "hf_sdpa", "flax", "keras3_fused", "tf_tutorial"])
def test_the_mask_code_follows_the_chosen_framework(key):
    at = open_page({"conv_mask_framework": key}, **NEWER_QUERY)
    assert not at.exception
    state = codegen.state_from_result(compute(Inputs(text=NEWER_QUERY["tokens"], packed=True, causal=True, window=3,
                                                     prefix_length=2, drawn=NEWER_QUERY["drawn"])))
    assert at.code[0].value.rstrip() == codegen.mask_code(state, key).rstrip()


def test_fully_masked_table_and_kv_cache_alignments():
    at = open_page(qpad="1", causal="1")
    assert not at.exception
    table = at.dataframe[-1].value
    kinds = dict(zip(table["framework"], table["float32"]))
    assert kinds[frameworks.get("torch_sdpa").title] == "zeros" and kinds[frameworks.get("torch_mha").title] == "NaN"
    assert dict(zip(table["framework"], table["float16"]))[frameworks.get("tf_tutorial").title] == "NaN"
    before_5 = table[table["framework"] == "transformers < 5 · SDPA path (_unmask_unattended)"].iloc[0]
    assert [before_5[d] for d in ("float16", "bfloat16", "float32", "float64")] == ["unmasked softmax"] * 4
    figs = figures(at)
    top = decode(figs["top-left: PyTorch is_causal, JAX, Keras"]["data"][0]["z"])
    bottom = decode(figs["bottom-right: FlashAttention ≥ 2.1, KV cache"]["data"][0]["z"])
    # "the cat sat" + 3 pads: the KV-cache view uses the 3 real tokens, the last 2 as queries
    assert top.shape == bottom.shape == (2, 3)
    assert bottom.tolist() == [[0, 0, 1], [0, 0, 0]]                   # the newest query sees every key
    assert top.tolist() == [[0, 1, 1], [0, 0, 1]]                      # top-left: as if at the start


def test_too_big_for_code_is_a_notice():
    text = " ".join(f"w{i}" for i in range(100))
    at = open_page(tokens=text, d="64")
    assert not at.exception
    assert any("limit is" in i.value for i in at.info)


def test_with_no_newer_mask_on_every_newer_mask_is_listed_in_tables_that_fit_the_page():
    at = open_page({}, tokens="the cat sat")
    tables = [t.value for t in at.table if set(t.value.columns) & set(frameworks.NEWER_PARTS.values())]
    assert all(len(t.columns) <= 4 for t in tables)                           # no table wider than the page
    assert [c for t in tables for c in t.columns] == list(frameworks.NEWER_PARTS.values())
    chunked = next(t for t in tables if "chunked" in t.columns)
    assert chunked.loc[frameworks.get("hf_sdpa").title, "chunked"] == "✓ attention_chunk_size"
