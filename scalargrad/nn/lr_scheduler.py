"""Learning-rate schedulers with ``torch.optim.lr_scheduler`` semantics.

A scheduler changes ``group['lr']`` of every parameter group of an optimizer.
Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``
(``ReduceLROnPlateau.step(metric)`` takes the monitored value):

>>> from scalargrad import Scalar
>>> from scalargrad.nn.optim import SGD
>>> opt = SGD([Scalar(1.0)], lr=0.1)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     opt.step()
...     sched.step()
...     lrs.append(sched.get_last_lr()[0])
>>> lrs
[0.1, 0.05, 0.05, 0.025, 0.025]

The learning rates follow torch's recursive formulas, so they match the
values torch prints, even when something else also changes the lr.
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

from .._util import checks
from .optim import Optimizer

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "ReduceLROnPlateau", "StepLR"]


def _check_optimizer(optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"a scheduler needs a scalargrad Optimizer, got {type(optimizer).__name__}")
    return optimizer


class LRScheduler:
    """Base class: sets each group's lr to ``get_lr()`` on every ``step()``.

    On construction it records each group's lr as ``'initial_lr'`` (the
    ``base_lrs``) and takes the first step, which with ``last_epoch=-1`` leaves
    the lrs unchanged and sets ``last_epoch`` to 0. A subclass implements
    ``get_lr()`` and lists its hyperparameters in ``_hyperparameters``.
    ``last_epoch >= 0`` resumes a schedule and needs ``'initial_lr'`` in
    every group (as a loaded optimizer state has).
    """

    _hyperparameters: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = _check_optimizer(optimizer)
        last_epoch = checks.int_at_least(last_epoch, "last_epoch", -1)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(f"parameter group {i} has no 'initial_lr', needed to resume a "
                                     f"schedule at last_epoch={last_epoch}; load the optimizer's "
                                     "state first or use last_epoch=-1")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._last_lr: list[float] = []
        # torch's first step: get_lr() sees _is_initial and keeps the current lrs.
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lrs for epoch ``last_epoch`` (one per group); use ``get_last_lr()`` to read them."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def step(self) -> None:
        """Advance one epoch and write the new lr into every parameter group."""
        self._step_count += 1
        self.last_epoch += 1
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs set by the last ``step()``, one per parameter group."""
        return list(self._last_lr)

    # ---- state dict ---------------------------------------------------------

    def _state_names(self) -> tuple[str, ...]:
        return ("base_lrs", "last_epoch", "_step_count", "_last_lr", *self._hyperparameters)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (everything but the optimizer) as plain JSON-able data."""
        out = {}
        for name in self._state_names():
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, (list, tuple)) else value
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from ``state_dict()``; checked in full before anything changes."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        names = self._state_names()
        missing = [k for k in names if k not in state_dict]
        extra = sorted(str(k) for k in state_dict if k not in names)
        if missing or extra:
            raise ValueError(f"{type(self).__name__} state_dict must have the keys {list(names)}; "
                             f"missing {missing}, unexpected {extra}")
        checked = {name: self._check_entry(name, state_dict[name]) for name in names}
        for name, value in checked.items():
            # counts meet floats in get_lr(): refuse one too large for a float now
            if checks.is_number(value):
                checks.number(value, f"state_dict[{name!r}]")
        self.__dict__.update(checked)

    def _check_entry(self, name: str, value: Any) -> Any:
        """Validate one saved entry; subclasses handle their own hyperparameters first."""
        n_groups = len(self.optimizer.param_groups)
        if name in ("base_lrs", "_last_lr", "min_lrs"):
            if not isinstance(value, (list, tuple)) or len(value) != n_groups:
                raise ValueError(f"state_dict[{name!r}] must be a list of {n_groups} numbers "
                                 f"(one per parameter group), got {value!r}")
            return [checks.number(v, f"state_dict[{name!r}] entry") for v in value]
        if name in ("last_epoch", "_step_count", "cooldown_counter", "num_bad_epochs"):
            return checks.int_at_least(value, f"state_dict[{name!r}]", -1 if name == "last_epoch" else 0)
        return value

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


class StepLR(LRScheduler):
    """Multiply every group's lr by ``gamma`` every ``step_size`` epochs.

    >>> from scalargrad import Scalar
    >>> from scalargrad.nn.optim import SGD
    >>> sched = StepLR(SGD([Scalar(1.0)], lr=0.05), step_size=30, gamma=0.1)
    >>> lrs = []
    >>> for epoch in range(61):
    ...     lrs.append(round(sched.get_last_lr()[0], 6))
    ...     sched.step()
    >>> lrs[0], lrs[29], lrs[30], lrs[59], lrs[60]   # 0.05 for epochs 0-29, 0.005 for 30-59, ...
    (0.05, 0.05, 0.005, 0.005, 0.0005)
    """

    _hyperparameters = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = checks.int_at_least(step_size, "step_size", 1)
        self.gamma = checks.number(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """Current lrs, times ``gamma`` when ``last_epoch`` is a positive multiple of ``step_size``."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _check_entry(self, name: str, value: Any) -> Any:
        if name == "step_size":
            return checks.int_at_least(value, "state_dict['step_size']", 1)
        if name == "gamma":
            return checks.number(value, "state_dict['gamma']")
        return super()._check_entry(name, value)


class ExponentialLR(LRScheduler):
    """Multiply every group's lr by ``gamma`` every epoch.

    >>> from scalargrad import Scalar
    >>> from scalargrad.nn.optim import SGD
    >>> sched = ExponentialLR(SGD([Scalar(1.0)], lr=0.1), gamma=0.5)
    >>> sched.step(); sched.step()
    >>> sched.get_last_lr()
    [0.025]
    """

    _hyperparameters = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = checks.number(gamma, "gamma")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """Current lrs times ``gamma`` (unchanged on the constructor's initial step)."""
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _check_entry(self, name: str, value: Any) -> Any:
        if name == "gamma":
            return checks.number(value, "state_dict['gamma']")
        return super()._check_entry(name, value)


class CosineAnnealingLR(LRScheduler):
    """Anneal each lr from its initial value to ``eta_min`` along a half cosine over ``T_max`` epochs.

    ``lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``, computed
    with torch's recursive form; after ``T_max`` the lr climbs back up
    (no restarts), exactly as torch does.

    >>> from scalargrad import Scalar
    >>> from scalargrad.nn.optim import SGD
    >>> sched = CosineAnnealingLR(SGD([Scalar(1.0)], lr=0.1), T_max=4)
    >>> lrs = []
    >>> for epoch in range(6):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     sched.step()
    >>> lrs   # down to eta_min (0.0) at epoch T_max, then back up
    [0.1, 0.0854, 0.05, 0.0146, 0.0, 0.0146]
    """

    _hyperparameters = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = checks.int_at_least(T_max, "T_max", 1)
        self.eta_min = checks.nonnegative(eta_min, "eta_min")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """torch's recursive cosine step from the current lrs."""
        groups = self.optimizer.param_groups
        epoch, T_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and epoch > 0:  # resuming at last_epoch >= 0: closed form
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(epoch * math.pi / T_max)) / 2
                    for base_lr in self.base_lrs]
        if (epoch - 1 - T_max) % (2 * T_max) == 0:
            # Just past the minimum the ratio below is 0/0-like; torch adds the first step back.
            return [group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * epoch / T_max)) / (1 + math.cos(math.pi * (epoch - 1) / T_max))
                * (group["lr"] - eta_min) + eta_min for group in groups]

    def _check_entry(self, name: str, value: Any) -> Any:
        if name == "T_max":
            return checks.int_at_least(value, "state_dict['T_max']", 1)
        if name == "eta_min":
            return checks.number(value, "state_dict['eta_min']")
        return super()._check_entry(name, value)


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lrs by ``factor`` once a metric has stopped improving for ``patience`` epochs.

    ``step(metric)`` once per epoch. A metric is better than the best so far
    when (mode 'min') it is below ``best * (1 - threshold)`` ('rel') or
    ``best - threshold`` ('abs'); mode 'max' mirrors that. After more than
    ``patience`` epochs without improvement every lr becomes
    ``max(lr * factor, min_lr)`` (skipped if that changes it by less than
    ``eps``), then ``cooldown`` epochs pass before bad epochs count again.

    >>> from scalargrad import Scalar
    >>> from scalargrad.nn.optim import SGD
    >>> opt = SGD([Scalar(1.0)], lr=0.1)
    >>> sched = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> for val_loss in [1.0, 1.0, 1.0]:
    ...     sched.step(val_loss)
    >>> sched.get_last_lr()
    [0.05]
    """

    _hyperparameters = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown",
                        "min_lrs", "default_min_lr", "eps", "best", "cooldown_counter", "num_bad_epochs")

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list[float] = 0, eps: float = 1e-8) -> None:
        # Like torch, this scheduler does not run LRScheduler's initial step.
        self.optimizer = _check_optimizer(optimizer)
        self.mode = self._check_mode(mode)
        self.threshold_mode = self._check_threshold_mode(threshold_mode)
        self.factor = checks.unit_interval(factor, "factor", include_one=False)
        self.patience = checks.int_at_least(patience, "patience", 0)
        self.threshold = checks.nonnegative(threshold, "threshold")
        self.cooldown = checks.int_at_least(cooldown, "cooldown", 0)
        self.eps = checks.nonnegative(eps, "eps")
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(f"expected {n_groups} min_lrs (one per parameter group), got {len(min_lr)}")
            self.default_min_lr: float | None = None
            self.min_lrs = [checks.nonnegative(v, "min_lr") for v in min_lr]
        else:
            self.default_min_lr = checks.nonnegative(min_lr, "min_lr")
            self.min_lrs = [self.default_min_lr] * n_groups
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._step_count = 0
        self._is_initial = False
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.best = self._mode_worse()
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @staticmethod
    def _check_mode(mode: Any) -> str:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        return mode

    @staticmethod
    def _check_threshold_mode(threshold_mode: Any) -> str:
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        return threshold_mode

    def _mode_worse(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    @property
    def in_cooldown(self) -> bool:
        """True while bad epochs are ignored after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, current: float, best: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return current < best * (1.0 - self.threshold)
            return current < best - self.threshold
        if self.threshold_mode == "rel":
            return current > best * (self.threshold + 1.0)
        return current > best + self.threshold

    def get_lr(self) -> list[float]:
        """The current lrs (this scheduler changes them only in ``step(metric)``)."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, metric: SupportsFloat) -> None:  # type: ignore[override]
        """Record this epoch's metric (a number or a Scalar) and reduce the lrs if it has plateaued."""
        try:
            current = float(metric)
        except (TypeError, ValueError):
            raise TypeError(f"metric must be a number or a Scalar, got {type(metric).__name__}") from None
        self._step_count += 1
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ValueError(f"the optimizer now has {len(groups)} parameter groups but min_lr gave "
                                 f"{len(self.min_lrs)} values; set scheduler.min_lrs to match")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def _check_entry(self, name: str, value: Any) -> Any:
        if name == "mode":
            return self._check_mode(value)
        if name == "threshold_mode":
            return self._check_threshold_mode(value)
        if name == "factor":
            return checks.unit_interval(value, "factor", include_one=False)
        if name in ("patience", "cooldown"):
            return checks.int_at_least(value, f"state_dict[{name!r}]", 0)
        if name in ("threshold", "eps"):
            return checks.nonnegative(value, f"state_dict[{name!r}]")
        if name == "default_min_lr":
            return None if value is None else checks.nonnegative(value, "state_dict['default_min_lr']")
        if name == "best":
            return checks.number(value, "state_dict['best']")
        return super()._check_entry(name, value)
