"""A griffe extension for the API reference: docstrings as the reader should see them.

mkdocs.yml loads it (mkdocstrings' ``extensions`` option). It does three things
before mkdocstrings renders a docstring:

- The docstrings are plain text with doctests, which run as tests. Markdown
  would read ``>>> x`` as a nested quote and ``[0.5, 0.5]`` in an output as a
  link, so each run of lines that starts at a ``>>>`` prompt and ends at a
  blank line is put in a ``pycon`` code block.
- A paragraph ending in ``::`` introduces an indented literal block, as in
  reStructuredText; Markdown shows the block as code already, so the
  paragraph ends in one colon (and a ``::`` alone on its line goes).
- Some methods are made by a call in the class body (``Scalar.exp =
  _function(_exp, "e**x ...")``), which griffe, reading the source, sees as
  attributes with no docstring. Those become methods with the docstring and
  signature the running code gives them.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import griffe

PROMPT = ">>>"
FENCE = "```"
KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


def fence_doctests(text: str) -> str:
    """``text`` with every doctest (a ``>>>`` line and the lines after it, up to a blank line) fenced as
    pycon."""
    out, indent = [], ""
    in_fence = in_doctest = False
    for line in text.splitlines():
        stripped = line.strip()
        if in_doctest and not stripped:
            out.append(f"{indent}{FENCE}")
            in_doctest = False
        elif not in_doctest and not in_fence and stripped.startswith(PROMPT):
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}{FENCE}pycon")
            in_doctest = True
        elif not in_doctest and stripped.startswith(FENCE):
            in_fence = not in_fence
        out.append(line)
    if in_doctest:
        out.append(f"{indent}{FENCE}")
    return "\n".join(out)


def literal_markers(text: str) -> str:
    """``text`` with each reStructuredText ``::`` before a blank line made ``:`` (or dropped when alone)."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        before_blank = i + 1 < len(lines) and not lines[i + 1].strip()
        if before_blank and line.rstrip().endswith("::"):
            if line.strip() == "::":
                continue
            line = line.rstrip()[:-1]
        out.append(line)
    return "\n".join(out)


def _method(attribute: griffe.Attribute, function: Any) -> griffe.Function:
    """A griffe method for ``attribute``, a function made at run time, with its signature and docstring."""
    parameters = griffe.Parameters(*[
        griffe.Parameter(p.name, kind=KINDS[p.kind],
                         annotation=None if p.annotation is p.empty else str(p.annotation),
                         default=None if p.default is p.empty else repr(p.default))
        for p in inspect.signature(function).parameters.values()])
    returns = inspect.signature(function).return_annotation
    method = griffe.Function(attribute.name, lineno=attribute.lineno, endlineno=attribute.endlineno,
                             parameters=parameters,
                             returns=None if returns is inspect.Signature.empty else str(returns))
    method.docstring = griffe.Docstring(inspect.cleandoc(function.__doc__), parent=method)
    return method


class Docstrings(griffe.Extension):
    """Fences doctests, turns ``::`` into ``:``, and documents the methods a class body makes by calling a
    function."""

    def on_class_members(self, *, node: ast.AST | griffe.ObjectNode, cls: griffe.Class,
                         **kwargs: Any) -> None:
        """Turn ``name = make(...)`` class attributes that are documented functions at run time into
        methods."""
        made = [member for member in cls.members.values()
                if isinstance(member, griffe.Attribute) and member.docstring is None
                and isinstance(member.value, griffe.ExprCall)]
        if not made:
            return
        runtime = griffe.dynamic_import(cls.path)
        for attribute in made:
            function = inspect.getattr_static(runtime, attribute.name, None)
            if inspect.isfunction(function) and function.__doc__:
                cls.set_member(attribute.name, _method(attribute, function))

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Fence the doctests of ``obj``'s docstring and drop its literal-block markers."""
        if obj.docstring is not None:
            obj.docstring.value = literal_markers(fence_doctests(obj.docstring.value))
