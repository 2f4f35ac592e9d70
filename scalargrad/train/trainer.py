"""``Trainer``: the training loop, read as a sequence of events handed to the run's callbacks.

One run is::

    on_train_begin
    for each epoch:   on_epoch_begin, then per batch: forward, loss, backward, step, on_batch_end;
                      evaluate, on_epoch_end, write the checkpoint
    on_train_end

Recording the History, stepping the lr scheduler and showing progress are
callbacks (``HistoryCallback``, ``SchedulerStep``, ``ProgressBar``,
``EpochLog``) that come before the user's.
"""

from __future__ import annotations

import itertools
import math
import os
import platform
import random
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Union

from .._util.checks import boolean, integer
from .._util.files import check_writable_folder
from ..data import DataLoader
from ..nn import Module
from .arguments import (
    TrainingData,
    check_callbacks,
    check_has_batches,
    check_model_loss_optimizer,
    check_options,
    check_stateful,
    count,
    true_or_false,
)
from .callbacks import CallbackList, EpochLog, HistoryCallback, ProgressBar, SchedulerStep
from .checkpoint import ResumePoint, optimizer_state_for, read_checkpoint, write_checkpoint
from .epoch_logs import epoch_logs, learning_rates, log_keys
from .evaluator import Evaluator
from .history import History
from .interrupt import CtrlCHandler
from .non_finite_loss import warn_non_finite_loss
from .parallel_steps import check_parallel, close_steps, make_steps, step_kind
from .position import TrainingPosition
from .progress import choose_display

__all__ = ["Logger", "Trainer"]

Logger = Union[Callable[[str], Any], Any, None]  # a logging.Logger (anything with .info) or a callable

_MAX_WORDS = ("acc", "f1", "r2", "auc", "precision", "recall")  # logged names where larger is better


class Trainer:
    """Train ``model`` with ``loss`` and ``optimizer`` for ``num_epochs`` epochs; ``run()`` returns a History.

    Data: ``x=`` and ``y=`` (lists or numpy arrays), or ``dataset=`` a map-style
    dataset (``__len__``, and ``__getitem__(i)`` giving ``(x, y)``, loaded batch by
    batch), batched by ``batch_size`` and reshuffled every epoch (``shuffle=False``
    keeps the given order, as the original scalargrad did); or ``loader=`` a
    ``scalargrad.data.DataLoader`` (or any iterable of ``(xb, yb)`` batches).

    Keyword options:

    * ``evaluator``: an ``Evaluator`` run after every epoch; its metrics are
      recorded as ``'val_<name>'``.
    * ``scheduler``: an lr scheduler stepped once per epoch;
      ``ReduceLROnPlateau`` gets ``scheduler_monitor`` (default:
      ``val_loss`` if recorded, else the first validation metric, else
      ``train_loss``).
    * ``callbacks``: ``Callback`` objects (``EarlyStopping``, ``ModelCheckpoint``, ...).
    * ``seed``: ``random.seed(seed)`` at the start of ``run()`` (so Dropout
      and initialisations inside the run repeat) and the loader's shuffling
      seed, so the same seed gives the same weights bit for bit.
    * ``progress``: None shows a tqdm bar per epoch when tqdm is installed and
      stdout is a terminal (in a Jupyter notebook, tqdm's widget when
      ipywidgets is installed), else one line per epoch on stdout; True
      forces the bar; False shows nothing. A ``logger`` (a ``logging.Logger`` or any
      callable taking a str) receives the epoch lines instead of stdout.
    * ``checkpoint``: a path; the full training state (model, optimizer,
      scheduler, history, position, random state) is written there
      atomically after every epoch and on interrupt. ``Trainer.resume(path)``
      continues from it.
    * ``replay``: build each batch size's graph once and replay it with new
      values (``scalargrad.replay.Replay``): the same losses and weights,
      faster. The graph must not change with the data: no Dropout in
      training mode, and a loss whose targets can be fed (MSE, L1, Hinge,
      BCE, BCEWithLogits, CrossEntropy; not NLL).
    * ``compile``: as ``replay`` (and implying it), but each batch size's
      graph is also compiled to one Python function
      (``scalargrad.compile``) that runs forward and backward at once: the
      same weights as ``replay=True`` (bit for bit up to CPython 3.11 and on
      PyPy; from 3.12, where ``sum()`` compensates its rounding, within the
      bound ``compile/templates.py`` states), with the same refusals.
      On PyPy it is slower than ``replay=True`` (a RuntimeWarning says so).
    * ``workers``: split each batch over N workers, this process and N - 1
      more (``scalargrad.parallel.DataParallel``, a pool started and stopped
      by ``run()``), each running the step above on its shard; the parent adds
      the gradients in shard order and steps the optimizer once. ``executor``:
      a ``concurrent.futures.Executor`` of your own instead (a dask cluster's).

    Ctrl-C during ``run()`` stops at the next batch boundary and returns the
    History so far (``history.interrupted`` is True), writing the checkpoint;
    a second Ctrl-C aborts at once with KeyboardInterrupt.

    The first batch loss of a run that is nan or inf gives a RuntimeWarning
    naming its epoch and batch; ``TerminateOnNaN()`` among the callbacks
    ends the run there.

    >>> import random
    >>> from scalargrad.train import AccuracyMetric, Evaluator
    >>> from scalargrad.nn import Linear, Sequential, CrossEntropyLoss, SGD
    >>> random.seed(0)
    >>> x, y = [[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]], [1, 0, 1, 0]
    >>> model = Sequential([Linear(2, 4, activation='tanh'), Linear(4, 2)])
    >>> history = Trainer(x=x, y=y, model=model, loss=CrossEntropyLoss(),
    ...                   optimizer=SGD(model.parameters(), lr=0.5), batch_size=2, num_epochs=30,
    ...                   evaluator=Evaluator(x=x, y=y, model=model, metric=AccuracyMetric()),
    ...                   seed=0, progress=False).run()
    >>> len(history), history['val_accuracy'][-1]
    (30, 1.0)
    """

    def __init__(self, x: Sequence[Any] | None = None, y: Sequence[Any] | None = None,
                 model: Callable[[Any], Any] | None = None, loss: Callable[[list, list], Any] | None = None,
                 optimizer: Any = None, batch_size: int | None = None, num_epochs: int | None = None,
                 evaluator: Evaluator | None = None, logger: Logger = None, *,
                 loader: Any = None, shuffle: bool | None = None, scheduler: Any = None,
                 scheduler_monitor: str | None = None, callbacks: Sequence[Any] | None = None,
                 seed: int | None = None, progress: bool | None = None,
                 checkpoint: str | os.PathLike | None = None, replay: bool = False, dataset: Any = None,
                 compile: bool = False, workers: int | None = None, executor: Any = None) -> None:
        check_model_loss_optimizer(model, loss, optimizer)
        if num_epochs is None:
            raise TypeError("Trainer needs num_epochs= (an int >= 1)")
        self.num_epochs = count(num_epochs, "num_epochs")
        self._data = TrainingData.from_arguments(x, y, loader, batch_size, shuffle, dataset)
        self.x, self.y = self._data.x, self._data.y
        self.batch_size, self.shuffle = self._data.batch_size, self._data.shuffle
        self.loader = loader  # the loader of the current run (made from x/y by run() when not given)
        check_options(evaluator, logger, scheduler, scheduler_monitor)
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.evaluator = evaluator
        self.logger = logger
        self.scheduler = scheduler
        self.scheduler_monitor = scheduler_monitor
        self.callbacks = check_callbacks(callbacks)
        self.seed = None if seed is None else integer(seed, "seed")
        replay, self.compile = true_or_false(replay, "replay"), true_or_false(compile, "compile")
        if self.compile and platform.python_implementation() == "PyPy":
            warnings.warn("Trainer(compile=True) on PyPy: a compiled step runs several times slower than "
                          "with replay=True there (PyPy's JIT does not take to one function thousands of "
                          "lines long); use replay=True", RuntimeWarning, stacklevel=2)
        # a compiled graph is a replayed one, run as generated code
        self.replay = replay or self.compile
        self.executor = executor
        self.workers = check_parallel(model, loss, workers, executor, step_kind(self.compile, self.replay))
        self.progress = None if progress is None else boolean(progress, "progress")
        if checkpoint is not None:
            check_stateful(model, "model")
            check_stateful(optimizer, "optimizer")
        self.checkpoint = None if checkpoint is None else os.fspath(checkpoint)
        if self.checkpoint is not None:  # fail now, not after the first epoch has trained
            check_writable_folder(self.checkpoint, "Trainer checkpoint")

        # ---- run state ----
        self.history: History | None = None
        self.epoch = 0                  # the current epoch, from 1
        self.losses: list[float] = []   # every batch loss of the current run: the original scalargrad's API
        self.stop_training = False
        self.interrupt_requested = False
        self.termination: str | None = None  # why terminate() ended the current run
        self.position = TrainingPosition()
        self._resume: ResumePoint | None = None  # a loaded checkpoint, applied by the next run()
        self._non_finite_seen = False  # a nan/inf loss was warned about in this run
        self._loader_seed: int | None = None
        self._ctrl_c = CtrlCHandler(lambda: self.interrupt_requested, self.request_interrupt)

    # ---- helpers used by callbacks ---------------------------------------------------

    def request_interrupt(self) -> None:
        """Stop after the current batch, as a first Ctrl-C does (the run counts as interrupted)."""
        self.interrupt_requested = True

    def terminate(self, reason: str) -> None:
        """End the run after the current batch, for good: ``stop_training`` is set and ``reason`` is shown
        as the run ends (on stderr, or to the logger). Unlike an interrupt, nothing of the unfinished epoch
        is recorded or checkpointed: the checkpoint keeps the last whole epoch. ``TerminateOnNaN`` uses it."""
        self.stop_training = True
        self.termination = str(reason)

    def log_keys(self) -> list[str] | None:
        """The keys of the next epoch's logs, known before it runs, e.g. ``['epoch', 'train_loss', 'lr',
        'seconds']`` (None when the evaluator does not name its results)."""
        return log_keys(self.evaluator, self.optimizer)

    def metric_mode(self, key: str) -> str:
        """'max' if larger values of the logged ``key`` are better, else 'min'."""
        if self.evaluator is not None and key.startswith("val_"):
            for name, m in zip(getattr(self.evaluator, "names", []), getattr(self.evaluator, "metrics", [])):
                if "val_" + name == key:
                    return "max" if getattr(m, "higher_is_better", False) else "min"
        return "max" if any(word in key.lower() for word in _MAX_WORDS) else "min"

    # ---- the run -------------------------------------------------------------------

    def run(self) -> History:
        """Train to ``num_epochs`` and return the History.

        Each call is a new run from the model's current weights (reseeding
        ``random`` when ``seed`` is given), unless ``load_checkpoint`` was
        called first: then it continues from the checkpoint's position.
        """
        check_has_batches(self._data.loader, self._resume.position.epoch if self._resume else 1)
        resume = self._start()
        display = choose_display(self.progress)
        loader = self.loader = self._make_loader()
        try:
            batches_per_epoch: int | None = len(loader)
        except TypeError:
            batches_per_epoch = None
        if resume is not None and resume.position.mid_epoch:
            self._warn_if_unseeded(loader)
        bar = ProgressBar(self.num_epochs, batches_per_epoch, display == "notebook") \
            if display in ("bar", "notebook") else None
        log = None if self.logger is None else getattr(self.logger, "info", self.logger)
        epoch_log = EpochLog(self.num_epochs, display, log, batches_per_epoch)
        own = [HistoryCallback(), SchedulerStep(), *([bar] if bar else []), epoch_log]
        callbacks = CallbackList([*own, *self.callbacks])  # ours first: the user's see the epoch recorded

        self._ctrl_c.install()
        try:
            callbacks.on_train_begin(self)
            if resume is not None:  # after on_train_begin, which resets the callbacks
                callbacks.load_state_dicts(resume.callback_states, stacklevel=3)
            if isinstance(self.model, Module):
                self.model.train()
            while self.position.epochs_done < self.num_epochs and not self.stop_training \
                    and not self.interrupt_requested and self.termination is None:
                self._run_epoch(loader, callbacks)
            if self.interrupt_requested:
                self.history.interrupted = True
                if self.checkpoint is not None:
                    self._write_checkpoint(callbacks)
            elif self.termination is not None:
                epoch_log.notice(self.termination)
            callbacks.on_train_end(self)
        finally:
            if bar is not None:
                bar.close()
            self._ctrl_c.uninstall()
            graphs, self._graphs = self._graphs, None  # let the run's graphs go
            close_steps(graphs, self.evaluator)  # and stop its worker processes
        return self.history

    def _start(self) -> ResumePoint | None:
        """Reset the run state: afresh, or from a loaded checkpoint (which is used up and returned)."""
        resume, self._resume = self._resume, None
        self.stop_training = False
        self.interrupt_requested = False
        self.termination = None
        self._non_finite_seen = False
        self.losses = []
        if resume is None:
            if self.seed is not None:
                random.seed(self.seed)
            self.history = History()
            self.position = TrainingPosition()
            self._loader_seed = self._new_loader_seed()
        else:
            random.setstate(resume.rng_state)
            self.position = resume.position
            self._loader_seed = resume.loader_seed
            self.stop_training = resume.stop_training
        self.history.interrupted = False
        self.epoch = self.position.epochs_done
        # One run's graphs, kept across its epochs: compiling a batch size's graph takes seconds.
        self._graphs = make_steps(self)
        return resume

    def _run_epoch(self, loader: Any, callbacks: CallbackList) -> None:
        """One epoch (or the rest of a resumed one): its batches, then its record for the callbacks."""
        position = self.position
        epoch = self.epoch = position.epoch
        callbacks.on_epoch_begin(self, epoch)
        lrs = learning_rates(self.optimizer)
        seconds_before, t0 = position.seconds, time.perf_counter()
        self._train_batches(loader, callbacks)
        if self.interrupt_requested or self.termination is not None:
            position.seconds = seconds_before + time.perf_counter() - t0
            return
        if position.loss_count == 0:
            raise ValueError(f"the loader yielded no batches in epoch {epoch}: it is empty, or an iterator "
                             "(a generator) that was used up by an earlier epoch; give a list of batches "
                             "or a DataLoader, which can be iterated once per epoch")
        logs = epoch_logs(epoch, position.loss_sum, position.loss_count, self.evaluator, lrs,
                          started=t0 - seconds_before)
        callbacks.on_epoch_end(self, epoch, logs)
        position.finish_epoch()
        if self.checkpoint is not None:
            self._write_checkpoint(callbacks)

    def _train_batches(self, loader: Any, callbacks: CallbackList) -> None:
        """The epoch's batches from the current position on, until the end or an interrupt.

        The hot loop: counters live in local variables and go back into
        ``self.position`` at the end; the batch logs are only built when a
        callback listens to ``on_batch_end``.
        """
        position = self.position
        model, loss_fn, optimizer = self.model, self.loss, self.optimizer
        replays = self._graphs
        losses, tell, isfinite = self.losses, callbacks.wants_batch_end, math.isfinite
        batch, loss_sum, loss_count = position.batches_done, position.loss_sum, position.loss_count
        try:
            for xb, yb in self._epoch_batches(loader, position.epochs_done, batch):
                if replays is not None:
                    value = replays.step(xb, yb, optimizer)
                else:
                    outputs = [model(xi) for xi in xb]
                    loss = loss_fn(outputs, yb)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    value = loss.data
                loss_sum += value
                loss_count += 1
                losses.append(value)
                if not isfinite(value) and not self._non_finite_seen:
                    self._non_finite_seen = True
                    warn_non_finite_loss(value, self.epoch, batch, stacklevel=4)  # at the caller of run()
                if tell:
                    callbacks.on_batch_end(self, batch, {"batch": batch, "size": len(xb), "loss": value})
                batch += 1
                if self.interrupt_requested or self.termination is not None:
                    break
        except KeyboardInterrupt:
            if self._ctrl_c.installed:
                raise  # a second Ctrl-C: abort at once
            # No handler of ours (not the main thread): stop here. The batch that was
            # running is dropped; if it was inside optimizer.step() the resume is not exact.
            self.interrupt_requested = True
        position.batches_done, position.loss_sum, position.loss_count = batch, loss_sum, loss_count

    @staticmethod
    def _epoch_batches(loader: Any, epoch_index: int, start: int) -> Iterable[tuple[Any, Any]]:
        """The batches of epoch ``epoch_index`` (from 0) from batch ``start`` on."""
        epoch_batches = getattr(loader, "epoch_batches", None)
        if epoch_batches is not None:
            return epoch_batches(epoch_index, start)
        batches = iter(loader)
        return itertools.islice(batches, start, None) if start else batches

    def _make_loader(self) -> Any:
        """The user's loader, or a DataLoader over x and y with this run's seed."""
        if self._data.loader is not None:
            return self._data.loader
        return DataLoader(self._data.dataset, batch_size=self.batch_size, shuffle=self.shuffle,
                          seed=self._loader_seed)

    def _new_loader_seed(self) -> int | None:
        """The shuffling seed of a new run's loader."""
        if self._data.loader is not None:
            return getattr(self._data.loader, "seed", None)
        if self.seed is not None:
            return self.seed
        # No seed: draw the loader's seed from the global random, so that a checkpoint
        # can still replay an interrupted epoch's batch order exactly.
        return random.randrange(2 ** 32) if self.shuffle else None

    def _warn_if_unseeded(self, loader: Any) -> None:
        if getattr(loader, "shuffle", False) and getattr(loader, "seed", 0) is None:
            warnings.warn("resuming in the middle of an epoch with an unseeded shuffling loader: the rest "
                          "of that epoch sees a different batch order (give the DataLoader a seed)",
                          stacklevel=3)

    # ---- checkpoints -----------------------------------------------------------------

    def _write_checkpoint(self, callbacks: CallbackList) -> None:
        write_checkpoint(self.checkpoint, model=self.model, optimizer=self.optimizer,
                         scheduler=self.scheduler, history=self.history, position=self.position,
                         loader_seed=self._loader_seed, seed=self.seed, num_epochs=self.num_epochs,
                         stop_training=self.stop_training, callback_states=callbacks.state_dicts(),
                         batch_size=self.batch_size, num_samples=self._num_samples())

    def _num_samples(self) -> int | None:
        """How many samples an epoch sees (None when the loader does not say)."""
        dataset = (self._data.dataset if self._data.loader is None
                   else getattr(self._data.loader, "dataset", None))
        try:
            return len(dataset) if dataset is not None else None
        except TypeError:
            return None

    def _batches_per_epoch(self) -> int | None:
        """How many batches an epoch has (None when the loader does not say)."""
        try:
            return len(self._make_loader())
        except TypeError:
            return None

    def load_checkpoint(self, path: str | os.PathLike) -> Trainer:
        """Load a checkpoint written by this kind of Trainer; the next ``run()`` continues from it.

        The model, optimizer and scheduler states are replaced at once (all or
        nothing); the history, position, random state and callback states
        are applied when ``run()`` starts.
        """
        checkpoint = read_checkpoint(path, has_scheduler=self.scheduler is not None)
        where = os.fspath(path)
        resume = checkpoint.resume
        self._check_resume_point(resume, where)
        saved = [(obj, obj.state_dict()) for obj in (self.model, self.optimizer, self.scheduler)
                 if obj is not None and hasattr(obj, "state_dict")]
        field = "model"
        try:
            self.model.load_state_dict(checkpoint.model)
            field = "optimizer"
            self.optimizer.load_state_dict(optimizer_state_for(checkpoint, self.optimizer, self.model))
            if self.scheduler is not None:
                field = "scheduler"
                self.scheduler.load_state_dict(checkpoint.scheduler)
        except BaseException as e:
            for obj, old in saved:
                obj.load_state_dict(old)
            if isinstance(e, (TypeError, ValueError)):
                raise type(e)(f"{where}: the field {field!r}: {e}") from None
            raise
        self.history = checkpoint.history
        loader_seed, user_loader = checkpoint.resume.loader_seed, self._data.loader
        if user_loader is not None and getattr(user_loader, "seed", None) != loader_seed:
            warnings.warn(f"the checkpoint was made with a loader seed of {loader_seed!r} but this loader "
                          f"has {getattr(user_loader, 'seed', None)!r}; batches will differ", stacklevel=2)
        self._resume = checkpoint.resume
        self.position = checkpoint.resume.position
        return self

    def _check_resume_point(self, resume: ResumePoint, where: str) -> None:
        """Refuse a position or callback state this Trainer cannot continue from, before anything
        changes; warn when the data differ from the run that wrote the checkpoint."""
        n_batches = self._batches_per_epoch()
        batch = resume.position.batches_done
        if n_batches is not None and batch > n_batches:
            raise ValueError(f"{where}: the field 'batch' ({batch}) is beyond the {n_batches} batches "
                             "of an epoch of this Trainer's data")
        pairs, _ = CallbackList(self.callbacks).match_states(resume.callback_states)
        for cb, state in pairs:
            check = getattr(cb, "check_state_dict", None)
            if callable(check):
                try:
                    check(state)
                except (TypeError, ValueError) as e:
                    raise type(e)(f"{where}: the field 'callbacks' ({type(cb).__name__}): {e}") from None
        for name, saved, now in (("batch size", resume.batch_size, self.batch_size),
                                 ("number of samples", resume.num_samples, self._num_samples())):
            if saved is not None and now is not None and saved != now:
                warnings.warn(f"{where} was written by a run with a {name} of {saved}, this Trainer has "
                              f"{now}; the resumed run will not match the original one", stacklevel=3)

    def resume(self, path: str | os.PathLike) -> History:
        """Load the checkpoint at ``path`` and train on to ``num_epochs``; returns the whole History.

        Model, optimizer, scheduler, history, random state and the position
        (down to the batch) are restored, so the run ends with exactly the
        weights an uninterrupted run with the same settings reaches. Build the
        Trainer as for the original run (same data, batch size, seed and
        kinds of model, optimizer and scheduler); a fresh model's weights are
        overwritten.

        >>> import os, tempfile
        >>> from scalargrad.nn import Linear, MSELoss, SGD
        >>> path = os.path.join(tempfile.mkdtemp(), 'run.json')
        >>> def trainer(num_epochs):
        ...     model = Linear(1, 1)
        ...     return Trainer(x=[[0.0], [1.0]], y=[0.0, 2.0], model=model, loss=MSELoss(),
        ...                    optimizer=SGD(model.parameters(), lr=0.1), batch_size=1,
        ...                    num_epochs=num_epochs, seed=0, progress=False, checkpoint=path)
        >>> len(trainer(2).run())            # a run that ends (or is interrupted) after epoch 2
        2
        >>> len(trainer(5).resume(path))     # goes on from there: epochs 3 to 5
        5
        """
        self.load_checkpoint(path)
        return self.run()

    def __repr__(self) -> str:
        return (f"Trainer(model={type(self.model).__name__}, optimizer={type(self.optimizer).__name__}, "
                f"batch_size={self.batch_size}, num_epochs={self.num_epochs})")
