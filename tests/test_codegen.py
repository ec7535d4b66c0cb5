"""codegen: the generated snippets run and print the weights the core says they print.

PyTorch, JAX and TensorFlow snippets run against the real libraries (marked with the
library's name; skipped with a reason when it is absent, and CI installs them all from
requirements-dev.txt). What they must print is ``codegen.expected_weights``: the
registry entry (maskattn.frameworks) on the core's logits.
"""

from dataclasses import replace
import itertools
import math
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from maskattn import codegen, frameworks, masks
from maskattn.errors import MaskAttnError
from maskattn.pipeline import compute
from maskattn.state import Inputs

ROOT = Path(__file__).resolve().parents[1]
#: text with a padded sequence, so padding, padded queries and causal all matter
TEXT = "the cat sat\nthe dog chased the cat home"
#: one step of the dtype at weights in [0.5, 1): frameworks round once, the core rounds every step
TOLERANCE = {"float32": 1e-6, "float64": 1e-12, "bfloat16": 2.0 ** -8 * 1.01, "float16": 2.0 ** -11 * 1.01}
MASKS = {"padding": dict(padding=True), "causal": dict(padding=False, causal=True),
         "combined": dict(padding=True, causal=True),
         "fully_masked": dict(padding=True, mask_queries=True, causal=True)}


def state_for(masks="combined", **kwargs):
    settings = Inputs(text=TEXT, **{**MASKS[masks], **kwargs})
    result = compute(settings)
    return result, codegen.state_from_result(result)


def run(source: str) -> dict:
    """Execute a snippet as a module of its own (FlexAttention's tracing looks a mask_mod's globals up by module)."""
    module = types.ModuleType(f"__snippet_{next(_SNIPPETS_RUN)}__")
    sys.modules[module.__name__] = module
    exec(compile(source, f"<{module.__name__}>", "exec"), module.__dict__)
    return module.__dict__


_SNIPPETS_RUN = itertools.count()


def as_float64(x) -> np.ndarray:
    if hasattr(x, "detach"):                                       # torch
        import torch
        return x.detach().to(torch.float64).numpy()
    return np.asarray(x).astype(np.float64)


def assert_weights(got, expected, dtype, cpu_cells=None):
    """``got`` is ``expected``: the same NaN cells, the rest within the dtype's tolerance. ``cpu_cells``
    (``codegen.cpu_dependent``) may be NaN or exactly 0, by the CPU."""
    got, expected = as_float64(got), np.asarray(expected).astype(np.float64)
    assert got.shape == expected.shape
    varies = np.zeros(got.shape, bool) if cpu_cells is None else cpu_cells
    assert (np.isnan(got[varies]) | (got[varies] == 0)).all(), "a CPU-dependent cell neither NaN nor 0"
    assert np.array_equal(np.isnan(got[~varies]), np.isnan(expected[~varies])), "NaN in different cells"
    ok = ~np.isnan(expected)
    assert np.allclose(got[ok], expected[ok], rtol=0, atol=TOLERANCE[dtype]), np.abs(got - expected)[ok].max()


# --- the state and the mask ------------------------------------------------------------------------

@pytest.mark.parametrize("masks", list(MASKS) + ["none"])
def test_tutorial_mask_is_the_apps_mask(masks):
    settings = Inputs(text=TEXT, padding=False) if masks == "none" else Inputs(text=TEXT, **MASKS[masks])
    result = compute(settings)
    state = codegen.state_from_result(result)
    mask = codegen.tutorial_mask(state)
    assert (mask is None) == (not result.mask_active)
    if mask is not None:
        assert mask.tolist() == result.mask.tolist()


def test_fully_masked_case_really_has_fully_masked_rows():
    result, _ = state_for("fully_masked")
    assert result.fully_masked.any() and result.tokens[-1] == "<pad>"


# --- NumPy: exactly the app ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("method", ["add", "fill", "safe", "multiply_weights", "zero_logits"])
@pytest.mark.parametrize("masks", list(MASKS))
def test_numpy_snippet_prints_the_apps_weights_exactly(dtype, method, masks):
    result, state = state_for(masks, dtype=dtype, method=method)
    ns = run(codegen.generate(state, "numpy", print_results=False))
    got, app = as_float64(ns["weights"]), result.steps.weights.astype(np.float64)
    assert np.array_equal(got, app, equal_nan=True)


@pytest.mark.parametrize("constant", ["-inf", "finfo.min", "-10", "0"])
def test_numpy_snippet_with_other_constants(constant):
    result, state = state_for("combined", constant=constant, scale=False, seed=3)
    ns = run(codegen.generate(state, "numpy", print_results=False))
    assert np.array_equal(as_float64(ns["weights"]), result.steps.weights.astype(np.float64), equal_nan=True)


def test_numpy_snippet_runs_as_a_script_and_prints():
    result, state = state_for("combined")
    out = subprocess.run([sys.executable, "-c", codegen.generate(state, "numpy")], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    assert out.startswith("attention weights")
    first_row = [float(x) for x in re.findall(r"[-\d.e]+", out.split("\n")[1])]
    assert first_row == pytest.approx(result.steps.weights[0].astype(np.float64), abs=1e-4)


# --- PyTorch: real torch ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: pip install torch==2.13.0 "
                                               "(requirements-dev.txt) to check the generated PyTorch code")


TORCH_CASES = ["torch_sdpa", "torch_sdpa_float", "torch_mha"]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16", "float64"])
@pytest.mark.parametrize("masks", list(MASKS))
@pytest.mark.parametrize("framework", TORCH_CASES)
def test_pytorch_snippet_matches_the_registry(torch, framework, masks, dtype):
    result, state = state_for(masks, dtype=dtype)
    ns = run(codegen.generate(state, framework, print_results=False))
    assert ns["weights"].dtype == getattr(torch, dtype)
    assert_weights(ns["weights"], codegen.expected_weights(state, framework), dtype)
    assert ns["output"].shape == tuple(result.v.shape)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_pytorch_fully_masked_rows_follow_numerics_md(torch, dtype):
    # NUMERICS.md: SDPA with a bool mask gives zeros (_safe_softmax); nn.MultiheadAttention gives NaN
    result, state = state_for("fully_masked", dtype=dtype)
    full = result.fully_masked
    sdpa = as_float64(run(codegen.generate(state, "torch_sdpa", print_results=False))["weights"])
    mha = as_float64(run(codegen.generate(state, "torch_mha", print_results=False))["weights"])
    assert (sdpa[full] == 0).all() and np.isnan(mha[full]).all()
    # partly masked rows: every blocked key gets exactly 0 and the row sums to 1, in both
    blocked = result.mask == 1
    for w in (sdpa, mha):
        assert (w[~full][blocked[~full]] == 0).all()
        assert np.allclose(w[~full].sum(axis=-1), 1.0, atol=0.02)


@pytest.mark.torch
def test_pytorch_additive_tutorial_mask_reproduces_the_app_including_fully_masked_rows(torch):
    # the tutorial's mask * -1e9 handed to SDPA as a float mask: exactly the Playground's numbers,
    # fully masked rows included (uniform in float32, NUMERICS.md)
    result, state = state_for("fully_masked")
    w = as_float64(run(codegen.generate(state, "torch_sdpa_float",
                                        print_results=False))["weights"])
    app = result.steps.weights.astype(np.float64)
    assert np.allclose(w, app, rtol=0, atol=1e-6)
    assert np.allclose(w[result.fully_masked], 1 / w.shape[1], atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("constant,dtype", [("-inf", "float32"), ("-1e9", "float16"), ("-1e4", "bfloat16"),
                                            ("finfo.min", "float32")])
def test_pytorch_additive_with_other_constants(torch, constant, dtype):
    _, state = state_for("fully_masked", constant=constant, dtype=dtype)
    ns = run(codegen.generate(state, "torch_sdpa_float", print_results=False))
    assert_weights(ns["weights"], codegen.expected_weights(state, "torch_sdpa_float"), dtype)


@pytest.mark.torch
@pytest.mark.parametrize("framework", ["torch_sdpa", "torch_mha"])
def test_pytorch_without_scaling_and_without_masks(torch, framework):
    _, state = state_for("causal", scale=False, d_model=8)
    assert_weights(run(codegen.generate(state, framework, print_results=False))["weights"],
                   codegen.expected_weights(state, framework), "float32")
    result = compute(Inputs(text=TEXT, padding=False))
    state = codegen.state_from_result(result)
    w = run(codegen.generate(state, framework, print_results=False))["weights"]
    assert_weights(w, result.steps.weights, "float32")


@pytest.mark.torch
def test_pytorch_snippet_runs_as_a_script_and_prints_the_weights(torch):
    _, state = state_for("fully_masked")
    expected = codegen.expected_weights(state, "torch_mha").astype(np.float64)
    out = subprocess.run([sys.executable, "-c", codegen.generate(state, "torch_mha")], capture_output=True,
                         text=True, check=True, timeout=300).stdout
    block = out.split("output = weights @ V:")[0]
    numbers = [float(x) for x in re.findall(r"nan|-?\d+\.\d+(?:e[-+]\d+)?", block)]
    assert np.allclose(np.array(numbers), expected.ravel(), atol=1e-4, equal_nan=True)


# --- JAX: run when installed -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
@pytest.mark.parametrize("masks", list(MASKS))
def test_jax_snippet_matches_the_core(masks, dtype):
    pytest.importorskip("jax", reason="jax is not installed (optional): pip install jax")
    _, state = state_for(masks, dtype=dtype)
    ns = run(codegen.generate(state, "jax", print_results=False))
    expected = codegen.expected_weights(state, "jax")
    assert_weights(ns["weights"], expected, dtype)
    if masks == "fully_masked":                       # NUMERICS.md: jax.nn.dot_product_attention -> uniform
        result, _ = state_for(masks, dtype=dtype)
        w = as_float64(ns["weights"])[result.fully_masked]
        assert np.allclose(w, 1 / w.shape[1], atol=TOLERANCE[dtype])


def test_jax_float64_snippet_runs_as_a_script():
    pytest.importorskip("jax", reason="jax is not installed (optional): pip install jax")
    _, state = state_for("combined", dtype="float64", d_model=4)
    code = codegen.generate(state, "jax", print_results=False) + "\nprint(repr(np.asarray(weights).tolist()))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    got = np.array(eval(out.stdout.strip().splitlines()[-1], {"nan": math.nan}))
    # JAX does the softmax in float32 whatever the dtype (jax/_src/nn/functions.py), hence 1e-6
    assert np.allclose(got, codegen.expected_weights(state, "jax"), atol=1e-6)


# --- TensorFlow: the generated tutorial code, run by real TensorFlow ---------------------------------

#: states the TensorFlow snippet is run on: every mask, method, dtype and the constants the issue measured
TF_STATES = ([dict(masks=m, method=meth, dtype=dt) for m in MASKS for meth in ("add", "fill", "safe")
              for dt in ("float32", "float16", "bfloat16", "float64")]
             + [dict(masks="fully_masked", constant=c, dtype=dt) for c in ("-inf", "-1e4", "finfo.min")
                for dt in ("float32", "bfloat16", "float16")]
             + [dict(masks="combined", scale=False, d_model=64, method="fill", constant="-1e4", dtype="float16")])


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow", reason="TensorFlow is not installed: pip install -r "
                                                    "requirements-dev.txt to run the generated TensorFlow code")


@pytest.mark.slow
@pytest.mark.tensorflow
@pytest.mark.parametrize("options", TF_STATES, ids=lambda o: "-".join(str(v) for v in o.values()))
def test_tensorflow_snippet_prints_the_registry_weights(tf, options):
    options = dict(options)
    result, state = state_for(options.pop("masks"), **options)
    source = codegen.generate(state, "tf_tutorial")
    assert "1 - tf.linalg.band_part(tf.ones((size, size)), -1, 0)" in source    # the tutorial's own lines
    ns = run(codegen.generate(state, "tf_tutorial", print_results=False))
    if ns["mask"] is not None:
        mask = np.broadcast_to(ns["mask"].numpy(), (1, 1) + result.mask.shape)[0, 0]
        assert mask.tolist() == result.mask.tolist()
    assert_weights(ns["weights"].numpy(), codegen.expected_weights(state, "tf_tutorial"), state.dtype,
                   codegen.cpu_dependent(state, "tf_tutorial"))


@pytest.mark.slow
@pytest.mark.tensorflow
def test_tensorflow_snippet_runs_as_a_script_and_prints_the_weights(tf):
    _, state = state_for("fully_masked", constant="-inf")
    expected = codegen.expected_weights(state, "tf_tutorial").astype(np.float64)
    out = subprocess.run([sys.executable, "-c", codegen.generate(state, "tf_tutorial")], capture_output=True,
                         text=True, check=True, timeout=300).stdout
    block = out.split("attention weights (rows: queries, columns: keys):")[1].split("output = weights @ V:")[0]
    numbers = np.array([float(x) for x in re.findall(r"nan|-?\d+(?:\.\d*)?(?:e[-+]\d+)?", block)])
    varies = codegen.cpu_dependent(state, "tf_tutorial").ravel()
    assert np.allclose(numbers[~varies], expected.ravel()[~varies], atol=1e-6, equal_nan=True)
    assert (np.isnan(numbers[varies]) | (numbers[varies] == 0)).all()   # NaN or exactly 0, by the CPU
    assert np.isnan(expected).any() and varies.any()       # 0 * -inf = NaN rows, whose blocked cells vary by CPU


def test_tensorflow_snippet_keeps_the_tutorial_constant():
    _, state = state_for("padding")
    source = codegen.generate(state, "tf_tutorial")
    assert "scaled_attention_logits += (mask * MASK_VALUE)" in source and "-1000000000.0" in source


# --- the newer masks: window, prefix LM, packed documents, a drawn mask, and all of them at once ----------

#: twelve tokens and a shorter line (padded), and three lines to pack (one holds a typed pad token)
TEXT12 = "a b c d e f g h i j k l\nthe cat sat"
PACK = "the cat sat\n<pad> dog ran home\nbirds sing"
#: a 9×9 mask drawn by hand for PACK's packed row (9 tokens), 1 = blocked
DRAWN9 = "-".join("".join("1" if (i * 7 + j * 3) % 11 == 0 and i != j else "0" for j in range(9)) for i in range(9))
NEWER = {
    "window": dict(text=TEXT12, causal=True, window=3),
    "window_distance_left": dict(text=TEXT12, window=3, window_rule="distance", padding_side="left", sequence=1),
    "prefix": dict(text=TEXT12, prefix_length=4, sequence=1, mask_queries=True),
    "prefix_window": dict(text=TEXT12, prefix_length=5, window=2),
    "packed_causal": dict(text=PACK, packed=True, causal=True),
    "packed_bidirectional": dict(text=PACK, packed=True),
    "drawn": dict(text="the cat sat", padding=False, drawn="001-100-010"),
    "everything": dict(text=PACK, packed=True, causal=True, window=3, prefix_length=2, mask_queries=True,
                       drawn=DRAWN9),
    "everything_distance": dict(text=PACK, packed=True, window=2, window_rule="distance", prefix_length=3,
                                drawn=DRAWN9, padding=False),
    "two_sided": dict(text=TEXT12, window=3, window_right=2),
    "longformer": dict(text=TEXT12, window=2, window_rule="distance", window_right=2, global_tokens="0,5",
                       mask_queries=True),
    "chunked_left": dict(text=TEXT12, chunk=3, padding_side="left", sequence=1),
    "chunks_global": dict(text=TEXT12, chunk=4, global_tokens="2", causal=True, sequence=1),
    "shared_prefix": dict(text=TEXT12, shared_prefix=3, completions=2, sequence=1),
}


def newer_state(case, **kwargs):
    result = compute(Inputs(**{**NEWER[case], **kwargs}))
    assert not result.notices, result.notices                # every part of the case is applied
    return result, codegen.state_from_result(result)


@pytest.mark.parametrize("case", list(NEWER))
def test_newer_masks_are_all_in_the_state_and_block_something(case):
    result, state = newer_state(case)
    assert codegen.tutorial_mask(state).tolist() == result.mask.tolist()
    spec = result.spec
    for name, value in NEWER[case].items():
        if name in ("window", "prefix_length", "drawn"):
            assert getattr(spec, name) is not None
    assert spec.segments == NEWER[case].get("packed", False)
    assert result.mask_active


def test_everything_has_fully_masked_rows_and_rows_that_see_several_keys():
    result, _ = newer_state("everything")
    seen = (result.mask == 0).sum(axis=-1)
    assert result.fully_masked.any() and (seen >= 2).any()


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("case", list(NEWER))
def test_numpy_snippet_with_newer_masks_is_the_app_exactly(case, dtype):
    result, state = newer_state(case, dtype=dtype)
    source = codegen.generate(state, "numpy", print_results=False)
    assert "maskattn.MaskSpec(" in source
    ns = run(source)
    assert np.array_equal(as_float64(ns["weights"]), result.steps.weights.astype(np.float64), equal_nan=True)


NEWER_TORCH = ["torch_sdpa", "torch_sdpa_float", "torch_mha", "torch_flex"]


@pytest.mark.torch
@pytest.mark.parametrize("framework", NEWER_TORCH)
@pytest.mark.parametrize("case", list(NEWER))
def test_pytorch_snippet_with_newer_masks_matches_the_registry(torch, framework, case):
    result, state = newer_state(case)
    ns = run(codegen.generate(state, framework, print_results=False))
    w = as_float64(ns["weights"])
    assert_weights(w, codegen.expected_weights(state, framework), "float32")
    blocked, partly = result.mask == 1, ~result.fully_masked      # (T, T), (T,)
    assert (w[partly][blocked[partly]] == 0).all()                   # the snippet blocks what the app blocks ...
    assert (w[partly][~blocked[partly]] > 0).all()                   # ... and nothing else


@pytest.mark.torch
@pytest.mark.parametrize("case", list(NEWER))
def test_pytorch_tutorial_port_prints_the_apps_weights_with_newer_masks(torch, case):
    # SDPA with the tutorial's mask * -1e9 added: the Playground's own numbers, fully masked rows included
    result, state = newer_state(case)
    w = as_float64(run(codegen.generate(state, "torch_sdpa_float", print_results=False))["weights"])
    assert np.allclose(w, result.steps.weights.astype(np.float64), rtol=0, atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64"])
@pytest.mark.parametrize("framework", NEWER_TORCH)
def test_pytorch_snippet_with_every_newer_mask_in_every_dtype(torch, framework, dtype):
    _, state = newer_state("everything", dtype=dtype)
    ns = run(codegen.generate(state, framework, print_results=False))
    assert ns["weights"].dtype == getattr(torch, dtype)
    assert_weights(ns["weights"], codegen.expected_weights(state, framework), dtype)


@pytest.mark.torch
def test_flex_attention_snippet_runs_as_a_script_and_prints_the_weights(torch):
    result, state = newer_state("everything")
    source = codegen.generate(state, "torch_flex")
    assert "and_masks(" in source and "or_masks(causal, prefix)" in source and "create_block_mask(" in source
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", source], capture_output=True, text=True,
                         check=True, timeout=300).stdout
    block = out.split("output = weights @ V:")[0]
    numbers = [float(x) for x in re.findall(r"nan|-?\d+\.\d+(?:e[-+]\d+)?", block)]
    expected = codegen.expected_weights(state, "torch_flex").astype(np.float64)
    assert np.allclose(np.array(numbers), expected.ravel(), atol=1e-4, equal_nan=True)
    assert (expected[result.fully_masked] == 0).all()            # FlexAttention: a fully masked row is zeros


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("case", list(NEWER))
def test_jax_snippet_with_newer_masks_matches_the_registry(case, dtype):
    pytest.importorskip("jax", reason="jax is not installed (requirements-dev.txt)")
    result, state = newer_state(case, dtype=dtype)
    source = codegen.generate(state, "jax", print_results=False)
    if state.spec.window is not None and not state.spec.global_tokens:   # (global tokens need the window as a rule)
        assert "local_window_size=(" in source                   # JAX's own window argument, not a mask
    ns = run(source)
    assert_weights(ns["weights"], codegen.expected_weights(state, "jax"), dtype)


@pytest.mark.slow
@pytest.mark.tensorflow
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])      # (float16 NaN rows beyond 8 keys: see TF_STATES)
@pytest.mark.parametrize("case", list(NEWER))
def test_tensorflow_snippet_with_newer_masks_matches_the_registry(tf, case, dtype):
    result, state = newer_state(case, dtype=dtype)
    ns = run(codegen.generate(state, "tf_tutorial", print_results=False))
    mask = np.broadcast_to(ns["mask"].numpy(), (1, 1) + result.mask.shape)[0, 0]
    assert mask.tolist() == result.mask.tolist()
    assert_weights(ns["weights"].numpy(), codegen.expected_weights(state, "tf_tutorial"), dtype,
                   codegen.cpu_dependent(state, "tf_tutorial"))
    if dtype == "float32":                                        # the tutorial's own function: the app's numbers
        assert_weights(ns["weights"].numpy(), result.steps.weights, dtype)


# --- the mask alone, in each registry entry's idiom, built by the real library ---------------------------------

def _library_mask_to_tutorial(key, ns, T):
    """The mask object a ``mask_code`` script left in ``ns``, as the tutorial's (T, T) float mask (1 = blocked)."""
    from maskattn import conventions as cv
    obj = ns["mask"]
    if key == "torch_mha":
        attn_mask, key_padding = obj
        blocked = np.zeros((1, T, T), bool)
        if attn_mask is not None:
            blocked |= np.broadcast_to(attn_mask.numpy(), (1, T, T))
        if key_padding is not None:
            blocked |= key_padding.numpy()[:, None, :]
        return blocked[0].astype(np.float32)
    if key == "torch_flex":
        if obj is None:
            return np.zeros((T, T), np.float32)
        from torch.nn.attention.flex_attention import create_mask
        attend = create_mask(ns["mask_mod"], 1, None, T, T, device="cpu").numpy()
        return cv.from_attend_bool(attend[0, 0])
    if key == "jax":                                   # what jax.nn.dot_product_attention does with mask + options
        import jax
        import jax.numpy as jnp
        q = jnp.zeros((1, T, 1, T), jnp.float32).at[..., 0].set(1.0)                     # (B, T, N, H)
        k = jnp.zeros((1, T, 1, T), jnp.float32).at[0, :, 0, 0].set(jnp.arange(T) / 10)  # key j scores j / 10
        v = jnp.eye(T, dtype=jnp.float32)[None, :, None, :]          # (B, T, N, T): the output row is the weights
        w = np.asarray(jax.nn.dot_product_attention(q, k, v, **ns["options"]))[0, :, 0, :]
        uniform = np.isclose(w, 1 / T).all(axis=-1, keepdims=True)  # only a fully masked row: JAX spreads it evenly
        return np.where(uniform & (T > 1), 1.0, (w == 0)).astype(np.float32)
    if obj is None:
        return np.zeros((T, T), np.float32)
    if hasattr(obj, "detach"):
        obj = obj.detach()
        obj = obj.to(__import__("torch").float64) if obj.is_floating_point() else obj
    arr = np.asarray(obj)
    if key == "tf_tutorial":
        return np.broadcast_to(arr, (1, 1, T, T))[0, 0].astype(np.float32)
    if key in ("torch_sdpa_float", "hf_eager"):
        return cv.from_additive(np.broadcast_to(arr, (1, 1, T, T))[0, 0])
    if key.startswith("keras"):
        return cv.from_attend_bool(arr[0])
    return cv.from_attend_bool(np.broadcast_to(arr != 0, (1, 1, T, T))[0, 0])     # torch bool, HF sdpa, Flax


#: the library each entry's mask code runs on (Keras 2's is written with Keras 3's ops)
MASK_CODE_LIBRARY = {fw.key: fw.code_package or fw.package for fw in frameworks.all_frameworks()}


def test_every_registry_entry_has_mask_code_and_names_its_library():
    for fw in frameworks.all_frameworks():
        assert fw.mask_code is not None and fw.package and fw.dialect is not None, fw.key


@pytest.mark.slow
@pytest.mark.parametrize("case", list(NEWER) + ["none"])
@pytest.mark.parametrize("key", [pytest.param(k, marks=getattr(pytest.mark, lib)) for k, lib in
                                 MASK_CODE_LIBRARY.items()])
def test_mask_code_builds_the_apps_mask_in_the_real_library(key, case):
    pytest.importorskip(MASK_CODE_LIBRARY[key], reason=f"{MASK_CODE_LIBRARY[key]} is not installed")
    import os
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if case == "none":
        result = compute(Inputs(text=TEXT12, padding=False))
        state = codegen.state_from_result(result)
    else:
        result, state = newer_state(case)
    ns = run(codegen.mask_code(state, key))
    T = len(result.tokens)
    got = _library_mask_to_tutorial(key, ns, T)
    expected = result.mask
    if key == "jax":                                   # a fully masked row comes out uniform: only its rows that see
        expected = np.where(result.fully_masked[:, None], 1.0, expected)   # something tell which keys are seen
    assert got.tolist() == expected.tolist(), f"{key} {case}\n{got}\n{expected}"


# --- every snippet parses; user text stays a literal; errors ----------------------------------------

@pytest.mark.parametrize("framework", list(codegen.FRAMEWORKS))
def test_hostile_tokens_stay_string_literals(framework):
    text = "a'); import os; os.system('echo pwned') #\n\"\"\" <script>x</script> \\"
    result = compute(Inputs(text=text, causal=True))
    source = codegen.generate(codegen.state_from_result(result), framework)
    compile(source, "<snippet>", "exec")
    assert f"tokens = {list(result.tokens)!r}" in source
    assert "\nimport os" not in source


def test_errors_name_the_bad_value():
    _, state = state_for()
    with pytest.raises(MaskAttnError, match="'keras'"):
        codegen.generate(state, "keras")
    with pytest.raises(MaskAttnError, match="'flax'"):          # a registry entry without a snippet
        codegen.generate(state, "flax")
    with pytest.raises(MaskAttnError, match="'numpy'"):         # mask_code is for registry entries
        codegen.mask_code(state, "numpy")
    _, packed = newer_state("packed_causal")
    with pytest.raises(MaskAttnError, match="segment ids, got None"):
        codegen.generate(replace(packed, segment_ids=None), "torch_flex")
    big = compute(Inputs(text=" ".join(f"w{i}" for i in range(100)), d_model=64))
    with pytest.raises(MaskAttnError, match="19,200 numbers"):
        codegen.generate(codegen.state_from_result(big), "numpy")


def test_compare_rows_names_the_fully_masked_rows_as_a_masking_difference():
    result, state = state_for("fully_masked")
    diff = codegen.compare_rows(codegen.expected_weights(state, "torch_sdpa"), result.steps.weights, state.dtype)
    assert diff.masking == np.flatnonzero(result.fully_masked).tolist() and diff.cpu == []


def test_compare_rows_tells_rounding_from_masking():
    app = np.array([[0.25, 0.75, 0.0], [0.5, 0.5, 0.0], [1.0, 0.0, 0.0]], np.float32)
    other = app.copy()
    other[0, 1] = np.nextafter(np.float32(0.75), np.float32(1))          # one step: rounding
    other[1, 2] = np.float32(1e-30)                                       # weight on a masked key: masking
    other[2, 0] = np.float32(0.99)                                        # far beyond rounding: masking
    diff = codegen.compare_rows(other, app, "float32")
    assert (diff.masking, diff.rounding, diff.cpu) == ([1, 2], [0], [])
    cpu = np.zeros(app.shape, bool)
    cpu[1, 2] = True                                                      # a CPU-dependent cell is neither
    assert codegen.compare_rows(other, app, "float32", cpu) == codegen.RowDifference([2], [0], [1])


#: a part the table does not have (bidirectional blocks of 4): its row alone, no dialect knows it
CHUNK = masks.MaskPart("blocks", "blocks of 4", "(Tq, Tk)", lambda spec: True,
                       lambda spec, batch: (np.arange(batch.T)[:, None] // 4 != np.arange(batch.T)[None, :] // 4)
                       .astype(np.float32), "{q} // 4 == {kv} // 4", "{q} // 4 != {kv} // 4", "other chunks blocked",
                       lambda spec: "blocks of 4")


@pytest.mark.slow
@pytest.mark.parametrize("key", [pytest.param(k, marks=getattr(pytest.mark, lib)) for k, lib in
                                 MASK_CODE_LIBRARY.items()])
def test_a_new_row_of_the_table_reaches_every_real_library_with_no_dialect_written_for_it(key, monkeypatch):
    """One more row in masks.parts.PARTS, and every library's mask code builds it from the rule, on the real library."""
    pytest.importorskip(MASK_CODE_LIBRARY[key], reason=f"{MASK_CODE_LIBRARY[key]} is not installed")
    import os
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from maskattn.masks import parts as parts_module
    monkeypatch.setattr(parts_module, "PARTS", parts_module.PARTS + (CHUNK,))
    result = compute(Inputs(text=TEXT12, padding=True, causal=True))
    state = codegen.state_from_result(result)
    assert "blocks of 4" in state.spec.describe()
    expected = np.maximum(result.mask, CHUNK.build(state.spec, parts_module.Batch(np.array([state.ids]))))
    ns = run(codegen.mask_code(state, key))
    got = _library_mask_to_tutorial(key, ns, len(result.tokens))
    assert got.tolist() == expected.tolist(), f"{key}\n{got}\n{expected}"


# --- NumPy alone, and the package installed -------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("method", ["add", "fill", "safe", "zero_logits", "multiply_weights"])
@pytest.mark.parametrize("masks", [{}, {"padding": False}, {"causal": True, "constant": "-inf"},
                                   {"window": 2, "prefix_length": 1, "mask_queries": True, "packed": True},
                                   {"drawn": "0101-0000-1000-0010", "text": "a b c d", "scale": False}])
def test_the_standalone_numpy_snippet_is_the_apps_arithmetic_bit_for_bit(dtype, method, masks):
    result = compute(Inputs(dtype=dtype, method=method, **masks))
    ns = run(codegen.generate(codegen.state_from_result(result), "numpy_standalone", print_results=False))
    assert "import maskattn" not in codegen.generate(codegen.state_from_result(result), "numpy_standalone")
    for name in ("weights", "output"):
        got, want = ns[name].astype(np.float64), getattr(result.steps, name).astype(np.float64)
        assert np.array_equal(got, want, equal_nan=True), (name, got, want)


@pytest.mark.parametrize("framework", list(codegen.FRAMEWORKS))
def test_every_snippet_ends_with_a_newline(framework):
    source = codegen.generate(codegen.state_from_result(compute(Inputs(causal=True))), framework)
    assert source.endswith("\n") and not source.endswith("\n\n\n")


@pytest.mark.slow
def test_the_package_installs_and_its_snippet_runs_as_saved_outside_the_repo(tmp_path):
    """``pip install`` of the clone (pyproject.toml), then the NumPy snippet saved to a file, run from elsewhere."""
    repo, clone = Path(__file__).resolve().parents[1], tmp_path / "clone"      # a copy: the build writes beside it
    shutil.copytree(repo / "maskattn", clone / "maskattn", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo / name, clone / name)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(clone)], check=True, capture_output=True, timeout=300)
    result = compute(Inputs(causal=True, dtype="float16"))
    state = codegen.state_from_result(result)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for framework in (codegen.NUMPY, codegen.NUMPY_STANDALONE):
        script = elsewhere / f"snippet_{framework}.py"
        script.write_text(codegen.generate(state, framework))
        out = subprocess.run([sys.executable, str(script)], cwd=elsewhere, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(target)}, timeout=120, check=True).stdout
        block = out.split("attention weights (rows: queries, columns: keys):")[1].split("output = weights @ V:")[0]
        numbers = [float(x) for x in re.findall(r"nan|-?\d+(?:\.\d*)?(?:e[-+]\d+)?", block)]
        assert np.allclose(numbers, result.steps.weights.astype(np.float64).ravel(), atol=1e-4, equal_nan=True)


# --- a position bias (ALiBi, T5 buckets), in the snippets that can add one -------------------------------------------

BIASED = {
    "alibi_causal": dict(text=TEXT12, causal=True, bias="alibi", bias_head=2),
    "t5_two_sided": dict(text=TEXT12, sequence=1, bias="t5", bias_head=5, window=3, window_right=1),
    "alibi_symmetric_padded": dict(text=TEXT12, sequence=1, bias="alibi_symmetric", mask_queries=True, method="fill"),
}


def biased_state(case, **kwargs):
    result = compute(Inputs(**{**BIASED[case], **kwargs}))
    assert not result.notices, result.notices
    state = codegen.state_from_result(result)
    assert state.bias is not None and "head" in state.bias_note
    return result, state


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("case", list(BIASED))
@pytest.mark.parametrize("key", [codegen.NUMPY, codegen.NUMPY_STANDALONE])
def test_numpy_snippets_add_the_bias_bit_for_bit(key, case, dtype):
    result, state = biased_state(case, dtype=dtype)
    source = codegen.generate(state, key, print_results=False)
    assert "BIAS = " in source
    weights = np.asarray(run(source)["weights"])
    assert weights.tobytes() == result.steps.weights.tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float64"])
@pytest.mark.parametrize("case", list(BIASED))
@pytest.mark.parametrize("key", [pytest.param("jax", marks=pytest.mark.jax),
                                 pytest.param("torch_flex", marks=pytest.mark.torch),
                                 pytest.param("torch_sdpa_float", marks=pytest.mark.torch),
                                 pytest.param("tf_tutorial", marks=pytest.mark.tensorflow)])
def test_framework_snippets_add_the_bias_their_own_way(key, case, dtype):
    if key == "jax" and dtype == "float64":
        pytest.skip("JAX runs softmax in float32 for every dtype: its float64 is checked in test_masks_beyond")
    pytest.importorskip(MASK_CODE_LIBRARY[key], reason=f"{MASK_CODE_LIBRARY[key]} is not installed")
    result, state = biased_state(case, dtype=dtype)
    source = codegen.generate(state, key, print_results=False)
    native = {"jax": "bias=BIAS[None, None]", "torch_flex": "score_mod=add_bias", "torch_sdpa_float": "+ BIAS",
              "tf_tutorial": "scaled_attention_logits += BIAS"}[key]
    assert native in source
    ns = run(source)
    assert_weights(ns["weights"], codegen.expected_weights(state, key), dtype, codegen.cpu_dependent(state, key))
    if dtype == "float64" or (dtype == "float32" and key != "jax"):          # the app's own numbers, in every row
        keep = ~result.fully_masked                                         # that sees a key (libraries differ there)
        assert_weights(as_float64(ns["weights"])[keep], result.steps.weights[keep], dtype)


@pytest.mark.parametrize("key", ["torch_sdpa", "torch_mha"])
def test_a_snippet_without_a_way_to_add_the_bias_says_which_do(key):
    _, state = biased_state("alibi_causal")
    with pytest.raises(MaskAttnError, match="FlexAttention .score_mod."):
        codegen.generate(state, key)
    assert codegen.mask_code(state, key)                                   # the mask alone is still written
