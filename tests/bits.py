"""``equal_up_to_sum_rounding``: how compiled code is compared with the graph it was compiled from.

Compiled code writes ``sum()`` out as a chain of additions from 0.0. Up to
CPython 3.11 and on PyPy, ``sum()`` of floats adds in the same order, so the
bits are the same, the sign of a zero included. From CPython 3.12, ``sum()``
compensates its rounding: a chain of n terms then differs from it by at most
(n - 1) * 2**-53 * sum(|terms|) (the chain's own rounding bound; see
``test_compile_fast.TestSumBound``), and results downstream agree to
``SUM_REL_TOL`` relative in the graphs these tests build.
"""

import math
import platform
import sys

COMPENSATED_SUM = platform.python_implementation() == "CPython" and sys.version_info >= (3, 12)
SUM_REL_TOL, SUM_ABS_TOL = 1e-9, 1e-12


def equal_up_to_sum_rounding(a: float, b: float) -> bool:
    """The same float, bit for bit (nan equals nan), where ``sum()`` adds in order; within the stated bound
    (``math.isclose``) where ``sum()`` compensates its rounding."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if COMPENSATED_SUM:
        return math.isclose(a, b, rel_tol=SUM_REL_TOL, abs_tol=SUM_ABS_TOL)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
