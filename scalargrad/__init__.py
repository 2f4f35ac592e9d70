"""scalargrad: a pure-Python scalar autograd engine with a small neural-network library.

>>> from scalargrad import Scalar
>>> x = Scalar(3.0, name='x')
>>> y = x * x + 2 * x
>>> y.backward()
>>> y.data, x.grad
(15.0, 8.0)
"""

from . import functional
from .autograd import GradcheckError, backward, grad, gradcheck, hessian, jacobian
from .scalar import AnomalyError, Scalar, detect_anomaly, enable_grad, is_grad_enabled, no_grad

__version__ = "0.2.0"

__all__ = ["AnomalyError", "GradcheckError", "Scalar", "__version__", "backward", "detect_anomaly",
           "enable_grad", "functional", "grad", "gradcheck", "hessian", "is_grad_enabled", "jacobian",
           "no_grad"]
