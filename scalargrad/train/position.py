"""``TrainingPosition``: where a run stands, down to the batch, so that a checkpoint can resume it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._util.checks import dict_with_keys, finite, nonnegative, nonnegative_int, number

__all__ = ["TrainingPosition"]


@dataclass
class TrainingPosition:
    """How far training has come: the finished epochs and the progress of the one under way.

    The batch loop keeps its counters in local variables (the fast path) and
    writes them here when the epoch ends or is interrupted.

    >>> position = TrainingPosition(epochs_done=2, batches_done=3, loss_sum=1.5, loss_count=3, seconds=0.5)
    >>> position.state_dict()['batch']
    3
    >>> position.finish_epoch(); position
    TrainingPosition(epochs_done=3, batches_done=0, loss_sum=0.0, loss_count=0, seconds=0.0)
    """

    epochs_done: int = 0    # completed epochs
    batches_done: int = 0   # batches done in the next epoch
    loss_sum: float = 0.0   # the sum of those batches' losses
    loss_count: int = 0     # how many losses that sum holds
    seconds: float = 0.0    # time spent in that epoch so far

    @property
    def epoch(self) -> int:
        """The epoch under way (or next), numbered from 1."""
        return self.epochs_done + 1

    @property
    def mid_epoch(self) -> bool:
        """True when an epoch has started but not finished."""
        return self.batches_done > 0

    def finish_epoch(self) -> None:
        """One more epoch done: the next starts at its first batch."""
        self.epochs_done += 1
        self.batches_done, self.loss_sum, self.loss_count, self.seconds = 0, 0.0, 0, 0.0

    def state_dict(self) -> dict[str, Any]:
        """The position under the Trainer checkpoint's keys (its format, version 1)."""
        return {"epoch": self.epochs_done, "batch": self.batches_done, "epoch_loss_sum": self.loss_sum,
                "epoch_batches": self.loss_count, "epoch_seconds": self.seconds}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take the position from ``state_dict()`` output, checked in full first: TypeError or
        ValueError naming the field of a position that cannot be (nothing is changed then)."""
        dict_with_keys(state, ("epoch", "batch", "epoch_loss_sum", "epoch_batches", "epoch_seconds"),
                       "position")
        epoch = nonnegative_int(state["epoch"], "the field 'epoch'")
        batch = nonnegative_int(state["batch"], "the field 'batch'")
        loss_sum = number(state["epoch_loss_sum"], "the field 'epoch_loss_sum'")  # inf/nan: a diverged run
        loss_count = nonnegative_int(state["epoch_batches"], "the field 'epoch_batches'")
        seconds = finite(nonnegative(state["epoch_seconds"], "the field 'epoch_seconds'"),
                         "the field 'epoch_seconds'")
        if loss_count > batch:
            raise ValueError(f"the field 'epoch_batches' ({loss_count}) is more than the batches done "
                             f"({batch})")
        self.epochs_done, self.batches_done = epoch, batch
        self.loss_sum, self.loss_count, self.seconds = loss_sum, loss_count, seconds
