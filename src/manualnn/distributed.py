"""``manualnn.distributed``: the communicator and the data-parallel step, which live in
the training layer (``manualnn.train.distributed``); this name is the short way in."""

from manualnn.train.distributed import (
    LOCAL,
    DataParallelStep,
    DistributedError,
    Local,
    MPIComm,
    WeightsDiverged,
    make_step,
    shard,
    world,
)

__all__ = ["LOCAL", "DataParallelStep", "DistributedError", "Local", "MPIComm",
           "WeightsDiverged", "make_step", "shard", "world"]
