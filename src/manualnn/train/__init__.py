"""Training: the epoch loop, mini-batches, optimizers and learning-rate schedules.

    loop.py       fit (the epoch loop), TrainState, early stopping
    evaluation.py evaluate: a split's mean loss and error rate, in fixed blocks of rows
    table.py      the epoch table the loop prints, and its progress bar
    batching.py   shuffled mini-batch indices, a batch's rows gathered into buffers, the
                  batches of several arrays
    step.py       Step: one batch's loss, gradients and update (fused into backward or not)
    optim.py      SGD (momentum, Nesterov), Adam, AdamW, by name
    optimizer.py  their base class: parameters, lr, weight decay, state and its reload
    clipping.py   gradient clipping by the global L2 norm
    sklearn_rules.py  scikit-learn's SGD and Adam rules, as variants of those classes
    schedules.py  constant, step, cosine, with a linear warm-up
    distributed.py  MPI: the communicator, the data-parallel step of one rank, the guard
    metrics.py    a regression's RMSE, MAE and R^2, in the targets' own units
    launcher.py   an MPI launcher's variables, checked before MPI starts and after
"""

from manualnn.train.evaluation import evaluate
from manualnn.train.loop import COLUMNS, TrainingDiverged, TrainState, fit

__all__ = ["COLUMNS", "TrainState", "TrainingDiverged", "evaluate", "fit"]
