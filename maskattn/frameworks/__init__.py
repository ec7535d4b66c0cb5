"""Every framework the app names, one file each, each answering the same question.

>>> from maskattn import frameworks
>>> frameworks.get("torch_mha").weights([[1.0, 2.0], [3.0, 4.0]], [[0, 1], [1, 1]]).tolist()
[[1.0, 0.0], [nan, nan]]
>>> frameworks.get("pytorch")      # doctest: +ELLIPSIS
Traceback (most recent call last):
...
maskattn.errors.MaskAttnError: framework must be one of tf_tutorial, keras2, ..., got 'pytorch'

Adding a framework is one file in this package: its ``ENTRIES`` (each a ``Framework`` with its
mask convention, its NumPy mirror, the real library's ``package``, its ``dialect`` of the table of
mask parts, its ``mask_code`` and, if it has one, its ``snippet``) and its place in the list
(``ORDER``). tests/framework_adapters.py calls the real library for tests/test_frameworks_real.py.
"""

from __future__ import annotations

from importlib import import_module
import pkgutil

from ..errors import MaskAttnError
from ._framework import (ADDED, ATTEND, BLOCKED, NEWER_PARTS, Convention, Expression, Framework, cpu_note,
                         tutorial_mask)

def _framework_files() -> list:
    """Every framework file of this package (a module without a leading ``_``), in its ``ORDER``."""
    modules = [import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)
               if not info.name.startswith("_")]
    return sorted(modules, key=lambda module: module.ORDER)


REGISTRY: dict[str, Framework] = {fw.key: fw for module in _framework_files() for fw in module.ENTRIES}


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
