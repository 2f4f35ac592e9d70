"""Callbacks: objects told about the Trainer's events (train begin/end, epoch begin/end, batch end).

The Trainer's own bookkeeping runs as callbacks too: ``HistoryCallback``
records each epoch, ``SchedulerStep`` steps the lr scheduler, ``ProgressBar``
and ``EpochLog`` show progress. They come
first in the run's ``CallbackList``, before the user's.
"""

from .callback import HOOK_NAMES, Callback
from .callback_list import CallbackList
from .early_stopping import EarlyStopping
from .epoch_log import EpochLog
from .history import HistoryCallback
from .lambda_callback import LambdaCallback
from .model_checkpoint import ModelCheckpoint
from .monitor import MonitorCallback, number_keys
from .progress_bar import ProgressBar
from .scheduler_step import SchedulerStep
from .terminate_on_nan import TerminateOnNaN

__all__ = ["HOOK_NAMES", "Callback", "CallbackList", "EarlyStopping", "EpochLog", "HistoryCallback",
           "LambdaCallback", "ModelCheckpoint", "MonitorCallback", "ProgressBar", "SchedulerStep",
           "TerminateOnNaN", "number_keys"]
