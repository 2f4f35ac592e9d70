"""The one namer of compiled code, and the only ways a user's text reaches it.

Generated source takes nothing from the user as code. A Scalar's name, an
input's name, an op's name, a function's ``__name__`` are *wishes*: ``Namer``
turns each into a Python name that is unique, and unique as Python reads it.
Python folds identifiers to NFKC before it compares them (``ｗ`` and ``w``,
``ﬁ`` and ``fi``, ``ℌ`` and ``H`` are one variable), so the namer writes every
name in its folded form and compares the folded forms. Comments show a user's
text only through ``comment_text``; numbers enter the code as ``float`` literals or
as names bound in the function's globals (``source._Writer.name_of``).

The namer reserves every name the writer uses itself: its helpers (the
globals it reads), the builtins, the keywords, the gradients' names (``g_``
and a variable's name: ``gradient_name``) and, in the fast form, its loops'
variables (``a0``, ``z1``, ``GX2``, ...: ``LOOP_NAME``) and other locals, so a
user's name never takes one of them; it gets a suffix instead (``a0_2``).

>>> names = Namer({"params"}, fast=True)
>>> names.new("w"), names.new("ｗ"), names.new("ｐａｒａｍｓ"), names.new("a0"), names.new("g_w")
('w', 'w_2', 'params_2', 'a0_2', 'v_g_w')
>>> names.new("_"), names.new("g"), names.new("g"), names.new("__builtins__")
('__2', 'g', 'g_2', '__builtins___2')
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

__all__ = ["FAST_LOCALS", "GRADIENT_PREFIX", "LOOP_FAMILIES", "LOOP_NAME", "Namer", "comment_text",
           "def_name", "folded", "gradient_name"]

# The families of the fast form's loop variables, each a family and a number (``fast.GLOSSARY`` says what
# each holds): in a loop, a run's inputs (a), an activation's derivative (d), a neuron's gradient (g), an
# input's summed gradient (s), the outputs (y) and pre-activations (z); a layer's runs (X), outputs (H),
# pre-activations (Z), gradients (G) and its inputs' gradients (GX).
LOOP_FAMILIES = ("a", "d", "g", "s", "y", "z", "G", "GX", "H", "X", "Z")
LOOP_NAME = re.compile(f"(?:{'|'.join(LOOP_FAMILIES)})[0-9]+")
FAST_LOCALS = frozenset({"_"})  # the fast form's other local: "_" takes a value it drops
GRADIENT_PREFIX = "g_"  # the gradient of variable v is g_v
PYTHON_NAMES = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


def folded(text: str) -> str:
    """``text`` as Python reads an identifier: folded to NFKC (``ｗ`` is ``w``, ``ﬁ`` is ``fi``)."""
    return unicodedata.normalize("NFKC", text)


def _plain_text(value: Any) -> str:
    """``value`` as a plain ``str`` (a str subclass's methods never run), or "" for anything else."""
    return str.__str__(value) if isinstance(value, str) else ""


def _identifier(wanted: str) -> str:
    """A Python name like ``wanted``, already in the folded form: characters a name cannot hold become
    ``_``, and ``v_`` goes before a name that cannot start as it does."""
    name = folded(wanted)
    if name.isidentifier():  # the common case
        return name
    name = "".join(ch if ("a" + ch).isidentifier() else "_" for ch in name)
    if not name[:1].isidentifier():  # empty, or starting with a digit or a combining mark
        name = "v_" + name
    if folded(name) != name or not name.isidentifier():  # the replacements made a new character: go ASCII
        name = "v_" + "".join(ch if ch.isascii() and ("a" + ch).isidentifier() else "_" for ch in name)
    return name


class Namer:
    """Unique Python names for one generated function: ``new(wanted)`` gives a name like ``wanted``
    that no other name of the function equals once Python folds it.

    ``reserved`` are the globals the writer reads (its helpers); the builtins, the keywords and the
    gradients' names are reserved as well, and for the ``fast`` form its loops' variables and locals.
    """

    def __init__(self, reserved: Iterable[str], fast: bool = False) -> None:
        self.taken = {folded(name) for name in reserved} | PYTHON_NAMES | (FAST_LOCALS if fast else set())
        self.fast = fast

    def new(self, wanted: Any) -> str:
        """A new name like ``wanted``: ``wanted`` itself when it is a free Python name, else made one
        (``_`` for characters a name cannot hold, ``v_`` before a gradient's name, a suffix ``_2``,
        ``_3``, ... where the name is taken or has a form the writer keeps)."""
        text = _plain_text(wanted)
        if text.isascii() and text.isidentifier() and text not in self.taken and self._free_form(text):
            self.taken.add(text)  # the common case: an ordinary name, already folded
            return text
        name = _identifier(text)
        if _gradient_form(name):  # a suffix keeps that form: g_w_2 could be the gradient of w_2
            name = "v_" + name
        candidate, n = name, 1
        while candidate in self.taken or not self._free_form(candidate):  # a suffixed one has no kept form
            n += 1
            candidate = f"{name}_{n}"
        self.taken.add(candidate)
        return candidate

    def _free_form(self, name: str) -> bool:
        """Whether ``name`` (folded) has none of the forms the writer keeps: its gradients, dunders
        (``__builtins__`` in the globals would replace the builtins) and its loop variables."""
        dunder = name.startswith("__") and name.endswith("__")
        return not (dunder or _gradient_form(name) or (self.fast and LOOP_NAME.fullmatch(name)))


def _gradient_form(name: str) -> bool:
    """Whether ``name`` could be a gradient's name: ``g_`` and a name that could be a variable's."""
    return name.startswith(GRADIENT_PREFIX) and name[len(GRADIENT_PREFIX):].isidentifier()


def gradient_name(variable: str) -> str:
    """The name of the gradient of ``variable`` (a name from ``Namer.new``): unique, since no other name
    has this form, and folded, since the variable's name is."""
    return GRADIENT_PREFIX + variable


def def_name(wanted: Any) -> str:
    """The function's name for the ``def`` line: ``wanted`` folded, when it is a Python name that can be
    assigned (not a keyword, not ``__debug__``); ValueError otherwise."""
    name = folded(_plain_text(wanted))
    if not isinstance(wanted, str) or not name.isidentifier() or keyword.iskeyword(name) \
            or name == "__debug__":
        shown = repr(name) if isinstance(wanted, str) else f"a {type(wanted).__name__}"
        raise ValueError(f"function_name must be a Python name, got {shown}")
    return name


def comment_text(text: Any) -> str:
    """``text`` fit for a comment: one line of printable characters (line breaks, controls, lone
    surrogates become spaces); a label that is not a string shows its type's name."""
    text = _plain_text(text) if isinstance(text, str) else type(text).__name__
    return text if text.isprintable() else "".join(ch if ch.isprintable() else " " for ch in text)
