"""Generated code is hygienic: no user string or value becomes code, and no two names collide.

Compiled code is written from the graph, so whatever the user names or passes can reach its text.
Each case is compiled in both forms and run against eager ``backward()`` on the same values (the
same bits; ``tests.bits``). The regression cases come first, one per defect found in the generated
source; then an attacker: Hypothesis draws Scalar names, op names, input names and function names
from a hostile alphabet (the generated code's own names, keywords, dunders, NFKC look-alikes, quotes,
line breaks, ``#``) and constants of every kind (nan, inf, -0.0, subnormals, numpy scalars, bools,
floats whose ``repr`` lies), and every form must still give eager's numbers.
"""

import fractions
import io
import keyword
import math
import platform
import random
import tokenize
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalargrad import Scalar
from scalargrad import functional as F
from scalargrad.compile import compile_graph
from scalargrad.extend import defop
from scalargrad.nn import Linear
from scalargrad.replay import Replay
from tests.bits import equal_up_to_sum_rounding

try:
    import numpy as np
except ImportError:  # PyPy: the numpy cases are left out
    np = None

FORMS = ("readable", "fast")


class LyingFloat(float):
    """A float whose text says another number: generated code that writes its ``repr`` computes 0.5."""

    def __repr__(self):
        return "0.5"

    __str__ = __repr__

    def __format__(self, spec):
        return "0.5"


class CodeFloat(float):
    """A float whose ``repr`` is code that breaks the step it is written into."""

    def __repr__(self):
        return "__import__('math').sqrt(-1.0)"  # a ValueError where it runs


# ---- the reference: eager backward() at the same values ------------------------------------------------

def _set(placeholder, value):
    """Write ``value`` (a number or nested lists) into the placeholder Scalar (or nested lists of them)."""
    if isinstance(placeholder, Scalar):
        placeholder.data = float(value)
    else:
        for p, v in zip(placeholder, value):
            _set(p, v)


def _eager(build, inputs, values, params):
    """The output and the parameters' gradients of the graph built afresh at ``values``."""
    for name, value in values.items():
        _set(inputs[name], value)
    for p in params:
        p.grad = 0.0
    out = build()
    out.backward()
    return out.data, [p.grad for p in params]


def _compiled(build, inputs, values, params, form, function_name="step"):
    """The output and the parameters' gradients of the compiled step, built at the inputs' current data."""
    step = compile_graph(build, inputs, function_name=function_name, form=form)
    for p in params:
        p.grad = 0.0
    return step(**values), [p.grad for p in params], step.source


def assert_compiles_as_eager(build, inputs, values, params, function_name="step"):
    """Both forms give eager's output and gradients, bit for bit."""
    expected, expected_grads = _eager(build, inputs, values, params)
    for form in FORMS:
        out, grads, source = _compiled(build, inputs, values, params, form, function_name)
        where = f"\nform {form}:\n{source}"
        assert equal_up_to_sum_rounding(out, expected), (out, expected, where)
        assert all(map(equal_up_to_sum_rounding, grads, expected_grads)), (grads, expected_grads, where)


# ---- 1. the writer's own names taken by a Scalar ---------------------------------------------------------

def _layer_then_scaled(scale_name, activation="tanh"):
    random.seed(0)
    layer = Linear(2, 2, activation=activation)
    xs = [[Scalar(0.0), Scalar(0.0)] for _ in range(2)]
    scale = Scalar(0.5, name=scale_name)
    build = lambda: F.sum([h for x in xs for h in layer(x)]) * scale
    return build, {"x": xs}, [*layer.parameters(), scale]


def test_a_scalar_named_like_a_loop_variable_keeps_its_value():
    """The issue's example: the loop's ``a0`` overwrote the scale named ``a0`` (0.2024 instead of 0.1012)."""
    build, inputs, params = _layer_then_scaled("a0")
    assert_compiles_as_eager(build, inputs, {"x": [[1.0, 2.0], [-1.0, 0.5]]}, params)
    expected, _ = _eager(build, inputs, {"x": [[1.0, 2.0], [-1.0, 0.5]]}, params)
    step = Replay(build, inputs).compile(form="fast")  # Replay.compile writes with the same namer
    assert equal_up_to_sum_rounding(step(x=[[1.0, 2.0], [-1.0, 0.5]]), expected)


def _read_around_a_layer(name, activation, width=2):
    """A Scalar named ``name`` whose value is read before a layer's loops and after them, in forward and
    in backward; its build, inputs and parameters."""
    random.seed(0)
    layer = Linear(2, width, activation=activation)
    xs = [[Scalar(0.0), Scalar(0.0)] for _ in range(2)]
    scale = Scalar(0.5, name=name)

    def build():
        return F.sum([h for x in xs for h in layer([v * scale * scale for v in x])]) * scale * 2.0

    return build, {"x": xs}, [*layer.parameters(), scale]


@pytest.mark.parametrize("name, activation", [
    *[(name, "tanh") for name in ("a0", "a1", "z0", "y1", "g0", "d1", "X0", "H0", "G0", "GX0")],
    ("Z0", "softplus"), ("Z0", "leaky_relu"), ("g1", "relu")])  # Z: an activation whose derivative reads z
def test_every_loop_name_is_reserved(name, activation):
    """``X0``, ``H0``, ``G0`` crashed with TypeError, the others gave wrong numbers."""
    build, inputs, params = _read_around_a_layer(name, activation)
    assert_compiles_as_eager(build, inputs, {"x": [[1.0, 2.0], [-1.0, 0.5]]}, params)


def test_the_long_sums_name_is_reserved():
    """``s0`` holds the first 200 terms of an input's gradient in a layer of more than 200 neurons."""
    build, inputs, params = _read_around_a_layer("s0", "tanh", width=201)
    assert_compiles_as_eager(build, inputs, {"x": [[1.0, 2.0], [-1.0, 0.5]]}, params)


# ---- 2. names that Python folds into one (NFKC) ----------------------------------------------------------

@defop("f", lambda x: x * x)
def _square(maths, x, y, const):
    return maths.div(x, 0.5)


@defop("ｆ", lambda x: 3.0 * x)
def _triple(maths, x, y, const):
    return 3.0


@pytest.mark.parametrize("first, second", [("w", "ｗ"), ("fi", "ﬁ"), ("H", "ℌ"), ("x_0", "ｘ_0")])
def test_look_alike_names_stay_two_variables(first, second):
    """``w`` and ``ｗ`` are one name to Python: compiled gave 12.0 and 4.0 where eager gives 9.0 and 3.0."""
    x = Scalar(0.0, name="x")
    a, b = Scalar(2.0, name=first), Scalar(1.0, name=second)
    assert_compiles_as_eager(lambda: x * a + x * b, {"x": x}, {"x": 3.0}, [a, b])


@pytest.mark.parametrize("name", ["ｐａｒａｍｓ", "ａｄｄ_ｇｒａｄ", "ａｄｄ_ｇｒａｄｓ", "ｔａｎｈ",
                                  "Ｍ", "ｍａｔｈｓ", "ｅｘｐ"])
def test_look_alikes_of_the_helpers_do_not_replace_them(name):
    """``ｐａｒａｍｓ`` replaced the parameters the code reads, ``ａｄｄ_ｇｒａｄ`` the function that
    adds gradients."""
    x = Scalar(0.0, name="x")
    w = Scalar(0.75, name=name)
    assert_compiles_as_eager(lambda: _square((x * w).tanh().exp()) * w, {"x": x}, {"x": 0.5}, [w])


def test_two_ops_whose_names_fold_together_keep_their_own_functions():
    x, w = Scalar(0.0, name="x"), Scalar(1.5, name="w")
    assert_compiles_as_eager(lambda: _square(x * w) + _triple(x * w), {"x": x}, {"x": 2.0}, [w])


def test_an_input_named_like_a_helper():
    x, w = Scalar(0.0), Scalar(1.5, name="w")
    assert_compiles_as_eager(lambda: (x * w).exp(), {"ｐａｒａｍｓ": x}, {"ｐａｒａｍｓ": 0.5}, [w])


def test_a_function_name_is_plain_text():
    class Sneaky(str):
        def __format__(self, spec):
            return "step(x):\n    return 0.0\ndef other"

    x, w = Scalar(0.0), Scalar(1.5, name="w")
    assert_compiles_as_eager(lambda: x * w, {"x": x}, {"x": 0.5}, [w], Sneaky("step"))


@pytest.mark.parametrize("function_name", ["__debug__", "ｄｅｆ", "Ｎｏｎｅ", "not a name", 3])
def test_a_function_name_python_cannot_assign_is_refused(function_name):
    """``__debug__`` and ``ｄｅｆ`` (``def`` once folded) passed the check, then made a SyntaxError (the
    other two were refused before too)."""
    x = Scalar(0.0)
    with pytest.raises(ValueError, match="function_name"):
        compile_graph(lambda: x * 2.0, [x], function_name=function_name)


# ---- 3. values written with their repr; user text in comments ---------------------------------------------

def _leaky_layer(slope):
    rng = random.Random(3)
    ws = [[Scalar(rng.uniform(-1, 1)) for _ in range(2)] for _ in range(2)]
    bs = [Scalar(rng.uniform(-1, 1)) for _ in range(2)]
    xs = [[Scalar(0.0), Scalar(0.0)] for _ in range(3)]
    build = lambda: F.sum([h for x in xs for h in F.linear(ws, x, bs, "leaky_relu", slope)])
    return build, {"x": xs}, [w for row in ws for w in row] + bs


SLOPE_VALUES = {"x": [[-1.0, 2.0], [-0.5, -2.0], [1.5, -3.0]]}


@pytest.mark.parametrize("slope", [LyingFloat(0.01), CodeFloat(0.01), float("inf"), float("-inf"),
                                   float("nan"), fractions.Fraction(1, 3)],
                         ids=["lying_repr", "code_repr", "inf", "-inf", "nan", "fraction"])
def test_a_slope_is_a_value_not_code(slope):
    """The fast form wrote ``repr(slope)``: a float subclass's repr ran as code, ``inf`` was a NameError."""
    build, inputs, params = _leaky_layer(slope)
    assert_compiles_as_eager(build, inputs, SLOPE_VALUES, params)


@pytest.mark.parametrize("slope", [-0.0, 5e-324, 1e308, 2], ids=["-0.0", "subnormal", "huge", "int"])
def test_a_slope_written_as_a_literal_keeps_its_bits(slope):
    """(These were right before: a literal from ``float.__repr__`` round-trips.)"""
    build, inputs, params = _leaky_layer(slope)
    assert_compiles_as_eager(build, inputs, SLOPE_VALUES, params)


@pytest.mark.skipif(np is None, reason="needs numpy")
@pytest.mark.parametrize("kind", ["float64", "float32", "int64"])
def test_a_numpy_slope(kind):
    """``np.float64(0.01)`` was written as ``np.float64(0.01)``: NameError np."""
    build, inputs, params = _leaky_layer(getattr(np, kind)(0.01 if kind != "int64" else 2))
    assert_compiles_as_eager(build, inputs, SLOPE_VALUES, params)


@pytest.mark.skipif(np is None, reason="needs numpy")
def test_linear_makes_a_numpy_slope_a_float():
    """Eager F.linear kept the slope as numpy's float32: ``.data`` and ``.grad`` became numpy values."""
    w, x = [[Scalar(1.0)]], [Scalar(-2.0)]
    y = F.linear(w, x, activation="leaky_relu", slope=np.float32(0.01))[0]
    y.backward()
    assert type(y.data) is float and type(w[0][0].grad) is float and type(x[0].grad) is float
    assert y.data == -2.0 * float(np.float32(0.01))


@pytest.mark.parametrize("slope, error", [(True, TypeError), ("0.01", TypeError), (None, TypeError)])
def test_linear_refuses_a_slope_that_is_not_a_number(slope, error):
    with pytest.raises(error, match="slope"):
        F.linear([[Scalar(1.0)]], [Scalar(-2.0)], activation="leaky_relu", slope=slope)
    with pytest.raises(error, match="slope"):  # the Scalar method checks it by the same rule
        Scalar(-2.0).leaky_relu(slope)


@pytest.mark.skipif(np is None, reason="needs numpy")
def test_the_scalar_method_makes_a_numpy_slope_a_float():
    x = Scalar(-2.0)
    y = x.leaky_relu(np.float32(0.5))
    y.backward()
    assert type(y.data) is float and type(x.grad) is float and y.data == -1.0


@defop("scale", lambda x, c: x * c, constant=True, inline=("{0} * {c}", "{c}"))
def _scale_by(maths, x, y, const):
    return const


@pytest.mark.parametrize("constant", [LyingFloat(2.0), CodeFloat(2.0), float("nan"), float("-inf"), -0.0,
                                      5e-324, True, 3],
                         ids=["lying", "code", "nan", "-inf", "-0.0", "subnormal", "bool", "int"])
def test_an_op_constant_in_an_inline_form_is_a_value(constant):
    """(Right before too: a constant that is not a finite float was already bound, never written.)"""
    x, w = Scalar(0.0, name="x"), Scalar(1.5, name="w")
    assert_compiles_as_eager(lambda: _scale_by(x * w, constant=constant) * w, {"x": x}, {"x": 0.5}, [w])


@defop("f\n    return 0.0  # ", lambda x: x * x, label=lambda c: "line\nbreak\r# \u2028\x00")
def _newline_op(maths, x, y, const):
    return 2.0 * x


def test_names_and_labels_with_line_breaks_stay_out_of_the_code():
    x, w = Scalar(0.0, name="x\nreturn 0.0"), Scalar(1.5, name="w = 0.0  # ")
    assert_compiles_as_eager(lambda: _newline_op(x * w) * w, {"x": x}, {"x": 0.5}, [w])


def test_ordinary_names_stay_readable():
    """The generated code's own names go to the writer; a Scalar that asks for one gets a suffix."""
    build, inputs, _ = _layer_then_scaled("a0")
    source = compile_graph(build, inputs, form="fast").source
    assert "for (a0, a1) in X0:" in source and "a0_2" in source
    assert "a0_2" not in compile_graph(build, inputs, form="readable").source  # it has no loops
    x, w, w2 = Scalar(0.0, name="x"), Scalar(1.0, name="w"), Scalar(2.0, name="ｗ")
    source = compile_graph(lambda: x * w + x * w2, [x], form="readable").source
    assert "def step(x):" in source and " w_2 " in source and "ｗ" not in source


# ---- the attacker: hostile names and constants, drawn by Hypothesis ----------------------------------------

def _names_in(source):
    """Every identifier in ``source``."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {token.string for token in tokens if token.type == tokenize.NAME}


def _generated_names():
    """The names the writer itself puts in the code of graphs with every kind of layer, in both forms:
    an attacker reads the generated code first."""
    found = set()
    for activation in F.ACTIVATIONS:
        build, inputs, _ = _read_around_a_layer("a0", activation)
        for form in FORMS:
            found |= _names_in(compile_graph(build, inputs, form=form).source)
    x, w = Scalar(0.0), Scalar(1.0)
    for form in FORMS:
        found |= _names_in(compile_graph(lambda: _square(F.mean([x * w, w])) * _scale_by(w, constant=2.0),
                                         [x], form=form).source)
    return found


FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
BOLD = {**{chr(ord("a") + i): chr(0x1D41A + i) for i in range(26)},
        **{chr(ord("A") + i): chr(0x1D400 + i) for i in range(26)}}
DISGUISES = [
    lambda word: "".join(FULLWIDTH.get(ch, ch) for ch in word),  # ｐａｒａｍｓ
    lambda word: "".join(BOLD.get(ch, ch) for ch in word),  # 𝐩𝐚𝐫𝐚𝐦𝐬
    lambda word: word.replace("fi", "ﬁ").replace("fl", "ﬂ").replace("ff", "ﬀ"),  # ligatures
    lambda word: word.replace("H", "ℌ").replace("g", "ℊ").replace("x", "ₓ").replace("0", "𝟎"),
    lambda word: word[:1] + "".join(FULLWIDTH.get(ch, ch) for ch in word[1:]),
]
WORDS = sorted(_generated_names() | set(keyword.kwlist) | {
    "match", "case", "_", "type", "print", "sum", "float", "None", "True",  # soft keywords, builtins
    "__builtins__", "__debug__", "__name__", "__class__", "__import__",  # dunders
    "nan", "inf", "minus_inf", "c", "v_", "g_", "g", "w", "fi", "H", "a0_2", "t0_2", "g_a0", "v_g_out"})
JUNK = ["'", '"', "\n", "\r", "#", " ", "\\", "\t", "\x00", "\u2028", "\x85", "\ud800",  # quotes, breaks
        "-", "0", "2", "_", "{", "}", "(", ")", "é", "e\u0301", "ℌ", "ﬁ", "ｗ"]

words = st.sampled_from(WORDS)
look_alikes = st.builds(lambda disguise, word: disguise(word), st.sampled_from(DISGUISES), words)
junk = st.lists(st.sampled_from(JUNK), max_size=4).map("".join)
texts = st.one_of(words, look_alikes, junk,
                  st.builds(lambda word, tail: word + tail, st.one_of(words, look_alikes), junk))
scalar_names = st.one_of(st.none(), texts)

FLOATS = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 5e-324, -2.5e-310, 1e308, 0.1, -3.0]
CONSTANT_KINDS = [float, LyingFloat, CodeFloat, lambda v: fractions.Fraction(v) if math.isfinite(v) else v]
if np is not None:
    CONSTANT_KINDS += [np.float64, np.float32, lambda v: np.array(v)]
numbers = st.builds(lambda kind, v: kind(v), st.sampled_from(CONSTANT_KINDS), st.sampled_from(FLOATS))
op_constants = st.one_of(numbers, st.sampled_from([True, False, 2, -1]))  # bools are numbers to an op
slopes = st.one_of(numbers, st.sampled_from([2, -1, 0]))  # a slope refuses bools (test above)


def _defops(first, second):
    """Two ops named by the attacker (their labels show the names as well), and one with an inline form."""
    square = defop(first, lambda x: x * x, label=lambda c: first)(
        lambda maths, x, y, const: maths.div(x, 0.5))
    triple = defop(second, lambda x: 3.0 * x, label=lambda c: second)(lambda maths, x, y, const: 3.0)
    scale = defop(second, lambda x, c: x * c, constant=True, inline=("{0} * {c}", "{c}"))(
        lambda maths, x, y, const: const)
    return square, triple, scale


def _python_name(text):
    """Whether ``text`` is a name a function can have, as written and as Python folds it (else the test
    uses "step")."""
    forms = (text, unicodedata.normalize("NFKC", text))
    return all(form.isidentifier() and not keyword.iskeyword(form) and form != "__debug__" for form in forms)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's, on nan and inf
# PyPy compiles each example's new source slowly (a minute for the profile's 300): CPython CI draws them all
@settings(max_examples=20) if platform.python_implementation() == "PyPy" else (lambda test: test)
@given(names=st.lists(scalar_names, min_size=22, max_size=22), ops=st.lists(texts, min_size=2, max_size=2),
       key=texts, function_name=st.one_of(words, look_alikes),
       activations=st.lists(st.sampled_from(F.ACTIVATIONS), min_size=2, max_size=2), slope=slopes,
       constants=st.lists(op_constants, min_size=2, max_size=2),
       fixed=st.lists(st.sampled_from(FLOATS), min_size=4, max_size=4),
       xs=st.lists(st.floats(-3.0, 3.0), min_size=4, max_size=4), seed=st.integers(0, 3))
def test_hostile_names_and_constants_compile_to_eagers_numbers(names, ops, key, function_name, activations,
                                                               slope, constants, fixed, xs, seed):
    """Two layers over a batch of two (the second fed by the first: loops in the fast form), a layer over
    plain numbers, ops named by the attacker, constants of every kind; every Scalar named by the attacker,
    one of them read before the loops and after them: both forms give eager's numbers, bit for bit."""
    rng = random.Random(seed)
    scalars = [Scalar(rng.uniform(-1.0, 1.0), name=name) for name in names[:18]]
    w1, w2, w3 = [scalars[0:2], scalars[2:4]], [scalars[4:6], scalars[6:8]], [scalars[8:10], scalars[10:12]]
    b1, b2, (s, u) = scalars[12:14], scalars[14:16], scalars[16:18]
    inputs = [[Scalar(0.0, name=names[18 + 2 * r + i]) for i in range(2)] for r in range(2)]
    square, triple, scale = _defops(*ops)
    c, k = constants

    def build():
        scaled = [[v * s * s for v in x] for x in inputs]  # s: read before the loops (and after, in backward)
        hidden = [F.linear(w1, x, b1, activations[0], slope) for x in scaled]
        total = F.sum([y for h in hidden for y in F.linear(w2, h, b2, activations[1], slope)])
        rows = (fixed[:2], fixed[2:])
        over_numbers = F.mean([y for row in rows for y in F.linear(w3, row, None, activations[0], slope)])
        mixed = square(total * s) + triple(total * u) + scale(total, constant=k) * u + over_numbers
        return (mixed * c + (c - u)) * s

    function_name = function_name if _python_name(function_name) else "step"
    assert_compiles_as_eager(build, {key: inputs}, {key: [xs[:2], xs[2:]]}, scalars, function_name)
