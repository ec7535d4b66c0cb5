"""Every registry entry against the real library it describes (TensorFlow, Keras 2 and 3, PyTorch,
transformers, JAX, Flax; the Annotated Transformer's function run on real PyTorch).

For random logits and masks with fully masked rows, in every dtype the entry runs,
``frameworks.get(key).weights`` must give the real library's NaN cells, its exact
zeros, and its other weights within two steps of the dtype. Marked ``slow`` and with
the library's name (``-m "not slow"`` skips them all; ``-m tensorflow`` runs one);
a library that is not installed is skipped with the reason. CI installs them all
(requirements-dev.txt).
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest

from maskattn import frameworks, numerics as nx
from maskattn.errors import MaskAttnError

from framework_adapters import ADAPTERS, LIBRARY, hf_mask

#: random (logits, mask) cases per (framework, dtype); each has at least one fully masked row
RANDOM_CASES = 24
#: hand-picked cases: NUMERICS.md's leaking row, the tutorial's q=[0,10,0], large and negative logits
FIXED_CASES = {
    "leak row": ([[3.2, 1.0, -0.5, 2.0]], [[0, 0, 1, 1]]),
    "tutorial q=[0,10,0], fully masked": ([[0.0, 57.735, 0.0, 0.0]], [[1, 1, 1, 1]]),
    "large logits, fully masked": ([[0.0, 0.0, 60.0, 3.0, 0.0]], [[1, 1, 1, 1, 1]]),
    "negative logits, fully masked": ([[-30.0, -20.0, -25.0, -40.0]], [[1, 1, 1, 1]]),
    "nothing masked": ([[1.0, 2.0, 3.0]], [[0, 0, 0]]),
}
#: JAX computes the softmax in float32 whatever the dtype: its float64 weights carry float32 rounding
PRECISION = {("jax", "float64"): "float32"}
CASES = [(key, dtype) for key in frameworks.keys() for dtype in frameworks.get(key).dtypes]


def marks(key):
    return [pytest.mark.slow, getattr(pytest.mark, LIBRARY[key])]


def need(key):
    """The real library for ``key``, or a skip naming the missing package."""
    return pytest.importorskip(LIBRARY[key], reason=f"{LIBRARY[key]} is not installed: pip install -r "
                                                    "requirements-dev.txt to check the registry against it")


#: the (Tq, Tk) shapes the random cases cycle through: one key to 8 (one AVX vector of float32), one query to 5.
#: A fixed few, because JAX and Flax compile once per shape (a new random shape every case cost ~8 s a dtype)
SHAPES = ((1, 1), (5, 8), (3, 4), (2, 7), (4, 2), (1, 8))


def random_cases(key, dtype, n=RANDOM_CASES):
    """``n`` (logits, mask) pairs in ``dtype``: up to 8 keys, scales from 1 to 300, a fully masked row each."""
    rng = np.random.default_rng([sorted(frameworks.keys()).index(key), nx.DTYPE_NAMES.index(dtype)])
    for i in range(n):
        Tq, Tk = SHAPES[i % len(SHAPES)]
        logits = rng.normal(size=(Tq, Tk)) * rng.choice([1.0, 5.0, 30.0, 300.0])       # (Tq, Tk)
        mask = (rng.random((Tq, Tk)) < rng.random()).astype(np.float64)               # (Tq, Tk) 1 = blocked
        mask[rng.integers(Tq)] = 1.0
        yield logits, mask


def compare(key, dtype, logits, mask):
    """Run the registry and the real library on one case; fail with both when they disagree.

    Cells the registry names CPU-dependent (``cpu_dependent``: TensorFlow's oneDNN softmax in a
    row holding a NaN) may be NaN or exactly 0; every other cell must match on any CPU.
    """
    logits = nx.cast(logits, dtype).astype(np.float64)
    mask = np.asarray(mask, np.float64)
    fw = frameworks.get(key)
    try:
        real = ADAPTERS[key](logits, mask, dtype)
    except RuntimeError as err:                      # the real library refuses: so must the registry
        with pytest.raises(MaskAttnError, match=str(err).splitlines()[0]):
            fw.weights(logits, mask, dtype)
        return
    mine = fw.weights(logits, mask, dtype).astype(np.float64)
    varies = fw.cpu_dependent(logits, mask, dtype)
    eps = float(nx.finfo(PRECISION.get((key, dtype), dtype)).eps)
    shown = f"{key} {dtype}\nlogits {logits.tolist()}\nmask {mask.tolist()}\nreal {real.tolist()}\nmine {mine.tolist()}"
    assert mine.shape == real.shape, shown
    assert np.isnan(mine[varies]).all(), "a CPU-dependent cell the registry does not show as NaN: " + shown
    assert (np.isnan(real[varies]) | (real[varies] == 0)).all(), "a CPU-dependent cell neither NaN nor 0: " + shown
    fixed = ~varies
    assert np.array_equal(np.isnan(mine[fixed]), np.isnan(real[fixed])), "NaN in different cells: " + shown
    ok = fixed & ~np.isnan(real)
    assert np.array_equal(mine[ok] == 0, real[ok] == 0), "exact zeros differ: " + shown
    assert np.allclose(mine[ok], real[ok], rtol=0, atol=2 * eps), shown


@pytest.mark.parametrize("key,dtype", [pytest.param(k, d, marks=marks(k)) for k, d in CASES])
def test_registry_matches_the_real_library_on_random_cases(key, dtype):
    need(key)
    for logits, mask in random_cases(key, dtype):
        compare(key, dtype, logits, mask)


@pytest.mark.parametrize("case", list(FIXED_CASES))
@pytest.mark.parametrize("key,dtype", [pytest.param(k, d, marks=marks(k)) for k, d in CASES])
def test_registry_matches_the_real_library_on_the_classic_rows(key, dtype, case):
    need(key)
    compare(key, dtype, *FIXED_CASES[case])


def comparisons() -> int:
    """How many (framework, dtype, case) comparisons the two tests above make."""
    return len(CASES) * (RANDOM_CASES + len(FIXED_CASES))


# --- the claims the page and the issue make, each against the real library ------------------------------

@pytest.mark.slow
@pytest.mark.tensorflow
def test_tensorflow_nan_rows_are_nan_on_the_nan_cells_on_any_cpu_and_the_rest_nan_or_zero():
    """What the registry promises for every CPU (AVX2 and AVX-512 alike): oneDNN's softmax
    (float16, bfloat16, float32) puts NaN on a row's NaN cells and NaN or exactly 0 on the rest,
    and the registry names exactly those other cells as CPU-dependent; Eigen (float64) turns the
    whole row NaN, and nothing there depends on the CPU."""
    tf = pytest.importorskip("tensorflow", reason="tensorflow is not installed")
    fw = frameworks.get("tf_tutorial")
    rng = np.random.default_rng(0)
    for Tk in (3, 4, 8, 9, 12, 16, 17, 33):
        logits = rng.normal(size=(6, Tk)) * 3                                       # (6, Tk)
        mask = (rng.random((6, Tk)) < 0.5).astype(float)                            # (6, Tk) 1 = blocked
        mask[0] = 1.0
        for dtype in ("float16", "float32", "float64"):
            real = ADAPTERS["tf_tutorial"](logits, mask, dtype)
            mine = fw.weights(logits, mask, dtype).astype(np.float64)
            varies = fw.cpu_dependent(logits, mask, dtype)
            if dtype == "float64":
                assert not varies.any() and np.array_equal(np.isnan(real), np.isnan(mine))
                continue
            # in float16 a row with an unmasked key holds NaN (0 * -inf there): its varying cells are
            # exactly the blocked ones, whose masked logit is -inf, not NaN; a fully masked row is NaN everywhere
            if dtype == "float16":
                some_open = (mask == 0).any(axis=-1, keepdims=True)
                assert np.array_equal(varies, (mask == 1) & some_open) and np.isnan(real[mask == 0]).all()
            assert (np.isnan(real[varies]) | (real[varies] == 0)).all()
            assert np.array_equal(np.isnan(real[~varies]), np.isnan(mine[~varies]))
    row = [np.nan, 1.0, -np.inf, -np.inf]
    assert np.isnan(tf.nn.softmax(tf.constant([row], tf.float64)).numpy()).all()    # Eigen: the whole row


@pytest.mark.slow
@pytest.mark.tensorflow
def test_the_registry_holds_on_a_cpu_that_turns_the_whole_row_nan():
    """Some CPUs turn a NaN row NaN throughout; TensorFlow does so everywhere with oneDNN off. The
    TensorFlow and Keras comparisons above must pass that way too (run in a process of their own)."""
    pytest.importorskip("tensorflow", reason="tensorflow is not installed")
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
                          "-k", "matches_the_real_library and (tf_tutorial or keras)"],
                         capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1], timeout=600)
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:]


@pytest.mark.slow
@pytest.mark.keras
def test_keras3_multi_head_attention_takes_both_paths():
    keras = pytest.importorskip("keras", reason="keras is not installed")
    tf = pytest.importorskip("tensorflow", reason="tensorflow is not installed")
    rng = np.random.default_rng(1)
    T, d = 5, 16
    x = rng.normal(size=(1, T, d)).astype(np.float32)
    mask = np.ones((1, T, T), bool)
    mask[0, 2] = False                                                 # query 2 attends to nothing
    layer = keras.layers.MultiHeadAttention(num_heads=1, key_dim=d, use_bias=False)
    layer(x, x)
    eye = np.eye(d, dtype=np.float32)
    layer.set_weights([eye[:, None, :], eye[:, None, :], eye[:, None, :], eye[None, :, :]])
    _, scores = layer(x, x, attention_mask=mask, return_attention_scores=True)
    logits = (x[0] / 4.0) @ x[0].T                                      # q·kᵀ / √16
    blocked = ~mask[0]
    np.testing.assert_allclose(np.asarray(scores)[0, 0], frameworks.get("keras3").weights(logits, blocked),
                               atol=1e-6)
    assert (np.asarray(scores)[0, 0, 2] == 0).all()                    # scores path: zeros
    v = np.eye(T, d, dtype=np.float32)[None]                            # V = I: the output is the weights
    out = np.asarray(layer(x, v, key=x, attention_mask=mask))[0, :, :T]
    np.testing.assert_allclose(out, frameworks.get("keras3_fused").weights(logits, blocked), atol=1e-6)
    np.testing.assert_allclose(out[2], 1 / T, atol=1e-6)               # the default fused path: uniform
    assert tf.__version__ and inspect.signature(layer.call).parameters["return_attention_scores"].default is False


@pytest.mark.slow
@pytest.mark.transformers
def test_hugging_face_defaults_to_sdpa_with_a_bool_mask_and_eager_adds_finfo_min():
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from transformers import masking_utils
    tiny = dict(vocab_size=20, hidden_size=16, num_hidden_layers=1, num_attention_heads=1, intermediate_size=16,
                max_position_embeddings=8)
    config = transformers.BertConfig(**tiny)
    model = transformers.BertModel(config)                              # random weights, nothing downloaded
    assert model.config._attn_implementation == "sdpa"                  # the default path
    ids = torch.tensor([[3, 4, 5, 0]])
    attention_mask = torch.tensor([[1, 1, 1, 0]])                       # 1 = attend (B, Tk)
    embeds = model.embeddings(input_ids=ids)
    sdpa = masking_utils.create_bidirectional_mask(config=model.config, inputs_embeds=embeds,
                                                   attention_mask=attention_mask)
    assert sdpa.dtype == torch.bool and sdpa[0, 0, :, 3].tolist() == [False] * 4      # True = attend
    eager_model = transformers.BertModel(transformers.BertConfig(**tiny, attn_implementation="eager"))
    eager = masking_utils.create_bidirectional_mask(config=eager_model.config, inputs_embeds=embeds,
                                                    attention_mask=attention_mask)
    assert eager.dtype == torch.float32
    assert eager[0, 0, 0].tolist() == [0.0, 0.0, 0.0, torch.finfo(torch.float32).min]   # added, not filled
    # the registry's converter gives the same mask for a (Tq, Tk) tutorial mask, by the same functions
    mask = np.array([[0, 0, 1], [1, 1, 1]], float)
    assert hf_mask(mask, "float16", "sdpa")[0, 0].tolist() == (mask == 0).tolist()
    assert (hf_mask(mask, "float16", "eager")[0, 0].to(torch.float64).numpy()
            == np.where(mask == 1, float(nx.finfo("float16").min), 0.0)).all()


@pytest.mark.slow
@pytest.mark.torch
def test_pytorch_facts_behind_the_registry():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    half = torch.tensor([1.0, 0.0], dtype=torch.float16)
    assert (half * -1e9).tolist() == [-float("inf"), -0.0]             # the scalar is not made float16 first
    with pytest.raises(RuntimeError, match="cannot be converted to type c10::Half without overflow"):
        torch.zeros(2, dtype=torch.float16).masked_fill(torch.tensor([True, False]), -1e9)
    forward = inspect.signature(torch.nn.MultiheadAttention.forward).parameters
    assert forward["need_weights"].default is True                      # nn.MultiheadAttention's default path


@pytest.mark.slow
@pytest.mark.jax
def test_jax_constant_is_capped_at_float32_and_computed_in_the_logits_dtype():
    pytest.importorskip("jax", reason="jax is not installed")
    from jax._src.nn import functions
    c = float(functions._get_large_negative(np.float32))
    assert c == pytest.approx(-0.7 * float(nx.finfo("float32").max), rel=1e-7)
    assert frameworks.get("jax").constant("float16") == (pytest.approx(c, rel=1e-7), "float32")


# --- the newer masks: each library's own way of saying them sees the app's keys ----------------------------

WINDOW_CASES = [(T, w, rule) for T in (1, 7, 12) for w in (1, 2, 3, 5, 12) for rule in ("keys", "distance")]


@pytest.mark.slow
@pytest.mark.jax
def test_jax_local_window_size_from_the_registry_sees_the_apps_keys():
    jax = pytest.importorskip("jax", reason="jax is not installed")
    import jax.numpy as jnp
    from maskattn import create_sliding_window_mask
    for T, w, rule in WINDOW_CASES:
        q = k = jnp.zeros((1, T, 1, T), jnp.float32)                # equal scores: weight > 0 iff the key is seen
        v = jnp.eye(T, dtype=jnp.float32)[None, :, None, :]         # (B, T, N, T): the output row is the weights
        window = frameworks.get("jax").window_argument(w, rule)     # the off-by-one is the registry's
        out = jax.nn.dot_product_attention(q, k, v, local_window_size=window, implementation="xla")
        seen = np.asarray(out)[0, :, 0, :] > 0                       # (T, T)
        np.testing.assert_array_equal(create_sliding_window_mask(T, w, rule), ~seen, err_msg=f"{T} {w} {rule}")


@pytest.mark.slow
@pytest.mark.transformers
@pytest.mark.parametrize("key", ["hf_sdpa", "hf_eager"])
def test_hugging_face_sliding_window_from_the_registry_sees_the_apps_keys(key):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from transformers.masking_utils import create_sliding_window_causal_mask
    from maskattn import conventions as cv, create_sliding_window_mask
    implementation = key.removeprefix("hf_")
    for T, w, rule in WINDOW_CASES:
        config = transformers.MistralConfig(sliding_window=frameworks.get(key).window_argument(w, rule),
                                            attn_implementation=implementation)
        embeds = torch.zeros(1, T, 1)
        mask = create_sliding_window_causal_mask(config, embeds, None, cache=None, allow_is_causal_skip=False)
        got = (cv.from_attend_bool(mask[0, 0].numpy()) if implementation == "sdpa"
               else cv.from_additive(mask[0, 0].numpy()))
        np.testing.assert_array_equal(create_sliding_window_mask(T, w, rule), got, err_msg=f"{T} {w} {rule}")


@pytest.mark.slow
@pytest.mark.transformers
def test_hugging_face_packing_and_prefix_claims():
    transformers = pytest.importorskip("transformers", reason="transformers is not installed")
    torch = pytest.importorskip("torch", reason="torch is not installed")
    from transformers import masking_utils as mu
    from maskattn import MaskSpec, conventions as cv
    config = transformers.MistralConfig(sliding_window=None, attn_implementation="sdpa")
    segments = np.array([[1, 1, 1, 2, 2, 3, 3, 3, 3]])
    T = segments.shape[1]
    embeds = torch.zeros(1, T, 1)
    # position_ids restarting at 0 in every document, with attention_mask=None: the document mask, causal
    positions = torch.tensor([[0, 1, 2, 0, 1, 0, 1, 2, 3]])
    by_positions = mu.create_causal_mask(config, embeds, None, cache=None, position_ids=positions,
                                         allow_is_causal_skip=False)
    by_function = mu.create_causal_mask(config, embeds, None, cache=None, allow_is_causal_skip=False,
                                        and_mask_function=mu.packed_sequence_mask_function(torch.tensor(segments)))
    app = MaskSpec(causal=True, segments=True).build(np.ones((1, T), int), segment_ids=segments)[0, 0]
    assert cv.from_attend_bool(by_positions[0, 0].numpy()).tolist() == app.tolist()
    assert cv.from_attend_bool(by_function[0, 0].numpy()).tolist() == app.tolist()
    # a prefix LM: or_mask_function and PaliGemma's block_sequence_ids give the same mask (without a window)
    for p in (0, 1, 4, T):
        by_or = mu.create_causal_mask(config, embeds, None, cache=None, allow_is_causal_skip=False,
                                      or_mask_function=lambda b, h, q_idx, kv_idx: kv_idx < p)
        blocks = torch.where(torch.arange(T) < p, 0, -1)[None]
        by_blocks = mu.create_causal_mask(config, embeds, None, cache=None, allow_is_causal_skip=False,
                                          block_sequence_ids=blocks)
        app = MaskSpec(prefix_length=p).build(np.ones((1, T), int))[0, 0]
        assert cv.from_attend_bool(by_or[0, 0].numpy()).tolist() == app.tolist()
        assert cv.from_attend_bool(by_blocks[0, 0].numpy()).tolist() == app.tolist()


@pytest.mark.slow
@pytest.mark.flax
def test_flax_document_mask_is_make_attention_mask_with_equal():
    pytest.importorskip("flax", reason="flax is not installed")
    import jax.numpy as jnp
    from flax import linen as nn
    from maskattn import create_document_mask
    segments = np.array([[1, 1, 2, 2, 2, 0], [1, 2, 3, 3, 0, 0]])
    mask = nn.make_attention_mask(jnp.asarray(segments), jnp.asarray(segments), pairwise_fn=jnp.equal)
    assert np.asarray(mask).shape == (2, 1, 6, 6)
    assert (np.asarray(mask)[:, 0] == 0).astype(np.float32).tolist() == create_document_mask(segments).tolist()


def test_every_entry_says_how_it_expresses_every_newer_mask():
    for fw in frameworks.all_frameworks():
        assert set(fw.expressions) == set(frameworks.NEWER_PARTS), fw.key
        assert all(e.api for e in fw.expressions.values())
    natives = {fw.key for fw in frameworks.all_frameworks() if fw.expressions["window"].native}
    with_argument = {fw.key for fw in frameworks.all_frameworks() if fw.window_argument(3) is not None}
    assert with_argument == {"jax", "hf_sdpa", "hf_eager"} and with_argument <= natives


@pytest.mark.parametrize("mask_shape", [(2, 3), (1, 1, 3)], ids=["larger", "more-axes"])
def test_keras3_refuses_a_mask_that_would_enlarge_the_logits_as_keras_does(mask_shape):
    """Keras 3's Softmax(mask) raises ValueError for a mask with more or larger axes than the logits (since 3.14);
    the registry raises MaskAttnError instead of broadcasting the logits up. A mask that fits still works."""
    need("keras3")
    import keras
    logits = np.array([[1.0, 2.0, 3.0]], np.float32)                              # (1, 3)
    mask = np.zeros(mask_shape)                                                   # tutorial: 0 = attend
    with pytest.raises(ValueError, match="broadcastable"):
        keras.layers.Softmax()(logits, mask=(mask == 0))
    with pytest.raises(MaskAttnError, match="raises ValueError"):
        frameworks.get("keras3").weights(logits, mask)
    assert frameworks.get("keras3").weights(logits, np.zeros(3)).shape == (1, 3)
    assert frameworks.get("keras3_fused").weights(logits, np.zeros(mask_shape)).shape == np.broadcast_shapes(
        (1, 3), mask_shape)                                                       # the fused path broadcasts
