"""How a library says a mask: a small description, rendered by one walk over the table of mask parts.

A ``Dialect`` names the placeholders of the parts' "may attend" rules the library's way
(``masks.parts``), says whether its mask states what may be attended or what is blocked,
how a mask starts and how two parts join, and which parts the library has a call of its
own for (``Native``: JAX's ``is_causal`` and ``local_window_size``, FlexAttention's
``or_masks``, Flax's ``make_causal_mask``, the tutorial's helper functions…). ``render``
walks the parts a ``MaskSpec`` switches on and writes the lines; codegen and the
Conventions page use nothing else to say a mask in a library.

>>> from maskattn.masks import MaskSpec
>>> SKETCH = Dialect(names=dict(q="i", kv="j", id_q="ids[i]", id_k="ids[j]", doc_q="doc[i]", doc_k="doc[j]",
...                             drawn="drawn[i][j]"), var="ok", start="ok = True", join="ok = ok and ({term})")
>>> print(SKETCH.render(MaskSpec(padding=True, causal=True)).code)
ok = True
ok = ok and (ids[j] != 0)                                         # pad keys blocked
ok = ok and (j <= i)                                              # causal: future keys blocked
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..masks.parts import PART, PLACEHOLDERS, MaskPart, parts_on
from ..masks.patterns import window_reach

if TYPE_CHECKING:
    from ..masks import MaskSpec

#: where generated comments start (the code before them is padded to this column)
COMMENT_COLUMN = 64


def commented(code: str, comment: str, column: int = COMMENT_COLUMN) -> str:
    """``code  # comment`` with the comments of neighbouring lines aligned (no comment: the code alone)."""
    return f"{code:<{column}}  # {comment}" if comment else code


def reach_code(spec: MaskSpec) -> str:
    """How far back a query looks, as code: ``WINDOW - 1`` (the window counts keys) or ``WINDOW`` (distance).

    >>> from maskattn.masks import MaskSpec
    >>> reach_code(MaskSpec(window=3)), reach_code(MaskSpec(window=3, window_rule="distance"))
    ('WINDOW - 1', 'WINDOW')
    """
    return "WINDOW - 1" if window_reach(spec.window, spec.window_rule) == spec.window - 1 else "WINDOW"


@dataclass(frozen=True)
class Native:
    """A library's own way to say one part, instead of the part's rule.

    ``kind``: ``"term"`` joins like a rule (``code`` is an expression in the dialect's names);
    ``"option"`` is a keyword of the attention call (``code`` is ``name=value``); ``"line"``
    is a statement of its own before the mask (``code``); ``"skip"``: another part's native
    call already says it.
    """

    kind: str
    code: str = ""
    note: str = ""
    uses: tuple[str, ...] = ()        # placeholders (or setup keys) the code needs defined first


@dataclass(frozen=True)
class Rendered:
    """A mask in one dialect: the lines that build it (ending in ``var``), and any call options."""

    lines: tuple[str, ...]
    options: tuple[str, ...]
    terms: tuple[str, ...]            # the joined terms alone (for a caller that lays them out itself)

    @property
    def code(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Dialect:
    """One library's way to write a mask: names, polarity, start, join, natives."""

    names: dict[str, str]                    # every placeholder of masks.parts.PLACEHOLDERS -> an expression
    var: str = "mask"                        # the variable the mask ends in
    polarity: str = "attend"                 # the terms say what may be attended ("attend") or is "blocked"
    intro: str = ""                          # a comment line before the mask
    start: str = ""                          # the mask before any part ("" : the first term starts it)
    join: str = "{var} = {var} & ({term})"   # how one more term is joined in
    first: str = "{var} = {term}"            # the first term when there is no ``start``
    empty: str = "{var} = None"              # the line when no part is on
    setup: dict[str, str] = field(default_factory=dict)   # a placeholder or a Native's use -> the line defining it
    native: dict[str, Callable[[MaskSpec], Native | None]] = field(default_factory=dict)
    term_comment: bool = True                # comment each term's line with the part's note
    wrap: str = "{rule}"                     # how a part said by its rule becomes a term (a cast, a lambda…)

    def native_call(self, part: MaskPart, spec: MaskSpec) -> Native | None:
        """The library's own call for ``part`` in ``spec``, or None (the part is written from its rule).

        A part that global tokens lift is always written from its rule when they are on: no library's
        window or chunk setting can leave rows and columns open.
        """
        if part.lifted and spec.global_tokens:
            return None
        return self.native[part.name](spec) if part.name in self.native else None

    def term(self, part: MaskPart, spec: MaskSpec, native: Native | None = None) -> tuple[str, str, tuple[str, ...]]:
        """One part as (code, note, what it uses), by the library's native call (``native``, else looked up)
        or by its rule."""
        native = native or self.native_call(part, spec)
        if native is not None:
            return native.code, native.note or part.note, native.uses
        rule = part.rule(self.polarity, spec.window_rule, spec)
        if part.lifted and spec.global_tokens:             # (rule) | (a global query or key)
            lift = PART["global_tokens"].rule(self.polarity, spec=spec)
            rule = f"({rule}) | ({lift})" if self.polarity == "attend" else f"({rule}) & ({lift})"
        uses = tuple(name for name in PLACEHOLDERS if "{" + name + "}" in rule)
        return self.wrap.format(rule=rule.format(**self.names)), part.note, uses

    def render(self, spec: MaskSpec) -> Rendered:
        """The lines that build ``spec``'s mask in this dialect, walking the parts it switches on."""
        setup, lines, options, terms = [], [], [], []
        for part in parts_on(spec):
            if part.opens:                                 # said inside the parts it lifts
                continue
            native = self.native_call(part, spec)
            if native is not None and native.kind == "skip":
                continue
            code, note, uses = self.term(part, spec, native)
            for name in uses:
                line = self.setup.get(name)
                if line and line not in setup:
                    setup.append(line)
            if native is not None and native.kind == "option":
                options.append(code)
            elif native is not None and native.kind == "line":
                lines.append(commented(code, note))
            else:
                terms.append(code)
                template = self.first if not self.start and len(terms) == 1 else self.join
                lines.append(commented(template.format(var=self.var, term=code), note if self.term_comment else ""))
        if terms and self.start:
            lines.insert(len(lines) - len(terms), self.start.format(var=self.var))
        if not terms:
            lines.append(self.empty.format(var=self.var))
        intro = [self.intro] if self.intro and terms else []
        return Rendered(tuple(intro + setup + lines), tuple(options), tuple(terms))
