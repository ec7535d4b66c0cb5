"""The real model: all-MiniLM-L6-v2 run by the NumPy core, checked against transformers' BertModel on the same
weights, and the padding facts the page teaches."""

import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn import MaskAttnError, model

BATCHES = [
    ["the cat sat on the mat", "hello world"],
    ["a", "birds sing at dawn in the quiet garden", "<b>bold</b> & <script>alert(1)</script>"],
    ["émoji 🙂 and 漢字, other scripts", "x", "the the the the the the the the the the the the"],
]


@pytest.fixture(scope="module")
def encoder():
    try:
        return model.load()
    except MaskAttnError as err:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install the weights: {err}")
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def bert(encoder):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    return transformers.BertModel.from_pretrained(str(model.weights_dir()), attn_implementation="eager").eval()


@pytest.mark.parametrize("sentences", BATCHES, ids=["issue-example", "html", "unicode"])
def test_hidden_states_and_every_attention_match_transformers(encoder, bert, sentences):
    import torch
    run = encoder.run(sentences)
    with torch.no_grad():
        out = bert(input_ids=torch.tensor(run.ids), attention_mask=torch.tensor(run.real.astype(np.int64)),
                   output_attentions=True)
    hidden = out.last_hidden_state.numpy()
    assert np.abs(hidden - run.hidden)[run.real].max() < 2e-5
    assert len(out.attentions) == len(run.layers) == 6
    for theirs, ours in zip(out.attentions, run.layers):
        assert ours.weights.shape == tuple(theirs.shape) == (len(sentences), 12) + (run.ids.shape[1],) * 2
        assert np.abs(theirs.numpy() - ours.weights).max() < 2e-5


def test_shapes_tokens_and_mask_follow_the_contract(encoder):
    run = encoder.run(["the cat sat on the mat", "hello world"])
    assert run.tokens[1] == ("[CLS]", "hello", "world", "[SEP]", "[PAD]", "[PAD]", "[PAD]", "[PAD]")
    assert run.mask.shape == (2, 1, 1, 8) and run.mask[1, 0, 0].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert run.hidden.shape == (2, 8, 384) and len(run.states) == 7
    for layer in run.layers:
        for array in (layer.logits, layer.masked_logits, layer.weights):
            assert array.shape == (2, 12, 8, 8)
    assert np.all(run.layers[0].weights[1, :, :, 4:] == 0)        # −1e9 in float32: exactly 0 on [PAD] keys
    emb = run.sentence_embeddings()
    assert emb.shape == (2, 384) and np.allclose(np.linalg.norm(emb, axis=1), 1.0)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.sampled_from("the cat sat on mat hello world birds sing at dawn".split()), min_size=1, max_size=6),
       st.integers(min_value=1, max_value=8))
def test_with_the_mask_a_padded_sentence_is_itself_alone(encoder, words, extra):
    sentence = " ".join(words)
    longer = " ".join(words + ["garden"] * extra)
    batch, alone = encoder.run([sentence, longer]), encoder.run([sentence])
    n = int(alone.lengths[0])
    assert np.abs(batch.hidden[0, :n] - alone.hidden[0]).max() < 1e-5
    unmasked = encoder.run([sentence, longer], padding_mask=False)
    assert np.abs(unmasked.hidden[0, :n] - alone.hidden[0]).max() > 1e-2    # without the mask it moves


def test_the_issues_numbers(encoder):
    """The issue's measured facts for "the cat sat on the mat" / "hello world", to the digits it gives."""
    effect = model.padding_effect(encoder, ["the cat sat on the mat", "hello world"])
    assert effect.drift[1, -1] < 1e-5 and effect.leaked[1] == 0
    assert 0.8 < effect.drift_unmasked[1, -1] < 0.95 and 0.85 < effect.cosine_unmasked[1] < 0.9
    small = model.padding_effect(encoder, ["the cat sat on the mat", "hello world"], mask_value=-10.0)
    tiny = model.padding_effect(encoder, ["the cat sat on the mat", "hello world"], mask_value=-1.0)
    assert 1e-5 < small.drift[1, -1] < 1e-3 and small.leaked[1] > 0
    assert 0.3 < tiny.drift[1, -1] < 0.8


def test_float16_with_minus_1e9_is_nan_through_every_layer_and_finfo_min_is_clean(encoder):
    batch = ["the cat sat on the mat", "hello world"]
    broken = encoder.run(batch, dtype="float16")
    assert all(np.isnan(s).all() for s in broken.states[1:]) and not np.isnan(broken.states[0]).any()
    clean = encoder.run(batch, dtype="float16", mask_value=-65504.0)
    assert not any(np.isnan(s).any() for s in clean.states)
    rows = {(r.dtype, r.value): r for r in model.constant_table(encoder, batch)}
    assert rows[("float16", -1e9)].nan and not rows[("float16", -65504.0)].nan
    assert not rows[("float32", -1e9)].nan and rows[("float32", -1e9)].largest_drift < 1e-5


@pytest.mark.parametrize("bad, message", [([], "no tokens to run"), (["ok", "  "], "sentence 2 is empty"),
                                           (["w"] * (model.MAX_SENTENCES + 1), "at most")])
def test_bad_batches_say_what_is_wrong(encoder, bad, message):
    with pytest.raises(MaskAttnError, match=message):
        encoder.run(bad)


def test_a_long_sentence_is_cut_at_512_positions_with_sep_last(encoder):
    run = encoder.run([" ".join(["word"] * 700), "short"])
    assert run.ids.shape[1] == model.MAX_POSITIONS and run.truncated == (True, False)
    assert run.tokens[0][-1] == "[SEP]" and not np.isnan(run.hidden).any()
    assert encoder.run(["a b c d e f"], max_tokens=5).tokens[0] == ("[CLS]", "a", "b", "c", "[SEP]")


def test_any_text_goes_through_the_real_tokenizer_as_text(encoder):
    run = encoder.run(["<script>alert(1)</script>", "🙂 漢字"])
    assert "<" in run.tokens[0] and "script" in run.tokens[0]
    assert all(isinstance(t, str) for t in run.tokens[1])


def test_missing_weights_name_the_one_command(monkeypatch):
    monkeypatch.setattr(model.importlib.util, "find_spec", lambda name: None)
    model.load.cache_clear()
    try:
        with pytest.raises(MaskAttnError, match=model.INSTALL_COMMAND.replace(".", r"\.")):
            model.load()
    finally:
        model.load.cache_clear()


def test_verdicts_name_the_cause(encoder):
    batch = ["the cat sat", "the dog chased the cat home", "birds sing"]
    default = " ".join(model.verdict(model.padding_effect(encoder, batch)))
    assert "get weight exactly 0" in default and "not bit for bit" in default and "the longest" in default
    off = " ".join(model.verdict(model.padding_effect(encoder, batch, padding_mask=False)))
    assert "with no mask its [PAD] keys get weight" in off
    small = " ".join(model.verdict(model.padding_effect(encoder, batch, mask_value=-10.0)))
    assert "still gives its [PAD] keys up to" in small
    boosted = " ".join(model.verdict(model.padding_effect(encoder, batch, mask_value=1e9)))
    assert "does not push the [PAD] keys down" in boosted and "not far enough below" not in boosted
    nan = model.verdict(model.padding_effect(encoder, batch, dtype="float16"))
    assert nan[0].startswith("With the padding mask at −1e9 (add, float16) the whole batch is NaN from layer 1")
    assert "−65504" in nan[0] and "finfo" in nan[0]


def test_the_look_ahead_mask_in_the_real_model(encoder):
    run = encoder.run(["the cat sat on the mat", "hello world"], causal=True)
    weights = run.layers[0].weights                            # (B, H, T, T)
    assert np.all(np.triu(weights[0, 0], k=1) == 0) and np.all(weights[1, :, :4, 4:] == 0)
    assert run.blocked.shape == (2, 1, 8, 8) and run.blocked[1, 0, 0].tolist() == [0, 1, 1, 1, 1, 1, 1, 1]
    effect = model.padding_effect(encoder, ["the cat sat on the mat", "hello world"], causal=True)
    # right padding: every [PAD] key comes after every real token, so the look-ahead mask alone hides them
    assert effect.drift[1, -1] < 1e-5 and effect.leaked[1] == 0 and effect.drift_unmasked[1, -1] < 1e-5
    assert "the look-ahead mask alone already hides them" in " ".join(model.verdict(effect))


def test_meaning_names_a_changed_neighbour_or_says_why_there_is_none(encoder):
    batch = ["the cat sat", "the dog chased the cat home", "birds sing"]
    assert model.rank_changes(model.padding_effect(encoder, batch[:2])) == [
        "Type three or more sentences to see which is nearest to which."]
    assert "NaN" in model.rank_changes(model.padding_effect(encoder, batch, dtype="float16"))[0]
    lines = model.rank_changes(model.padding_effect(encoder, batch))
    truth = model.padding_effect(encoder, batch).similarity("alone")
    assert lines and all(line.endswith(".") for line in lines)
    assert truth.shape == (3, 3) and np.allclose(np.diag(truth), 1.0)
