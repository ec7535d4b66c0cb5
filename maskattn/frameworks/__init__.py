"""Every framework the app names, one file each, each answering the same question.

>>> from maskattn import frameworks
>>> frameworks.get("torch_mha").weights([[1.0, 2.0], [3.0, 4.0]], [[0, 1], [1, 1]]).tolist()
[[1.0, 0.0], [nan, nan]]
>>> frameworks.get("pytorch")
Traceback (most recent call last):
...
maskattn.errors.MaskAttnError: framework must be one of tf_tutorial, keras2, keras3, keras3_fused, torch_sdpa, torch_sdpa_float, torch_mha, torch_flex, hf_sdpa, hf_eager, jax, flax, annotated_transformer, got 'pytorch'

Adding a framework is one file holding ``ENTRIES`` plus its name in ``_MODULES``.
tests/test_frameworks_real.py checks every entry against the real library.
"""

from __future__ import annotations

from importlib import import_module

from ..errors import MaskAttnError
from ._framework import (ADDED, ATTEND, BLOCKED, NEWER_PARTS, Convention, Expression, Framework, cpu_note,
                         tutorial_mask)

#: the framework files, in the order the app lists them
_MODULES = ("tf_tutorial", "keras", "pytorch", "huggingface", "jax_flax", "annotated_transformer")

REGISTRY: dict[str, Framework] = {fw.key: fw for name in _MODULES
                                  for fw in import_module(f"{__name__}.{name}").ENTRIES}


def keys() -> tuple[str, ...]:
    """Every registry key, in the app's order."""
    return tuple(REGISTRY)


def get(key: str) -> Framework:
    """The ``Framework`` for ``key``; ``MaskAttnError`` naming the choices otherwise."""
    if not isinstance(key, str) or key not in REGISTRY:
        raise MaskAttnError(f"framework must be one of {', '.join(REGISTRY)}, got {key!r}")
    return REGISTRY[key]


def all_frameworks() -> tuple[Framework, ...]:
    """Every entry, in the app's order."""
    return tuple(REGISTRY.values())


__all__ = ["ADDED", "ATTEND", "BLOCKED", "NEWER_PARTS", "Convention", "Expression", "Framework", "REGISTRY",
           "all_frameworks", "cpu_note", "get", "keys", "tutorial_mask"]
