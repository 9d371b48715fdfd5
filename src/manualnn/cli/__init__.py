"""The ``manualnn`` command.

    app.py         the argument parser, and main(): one line and exit 2 for any bad input
    commands.py    what each subcommand does with its parsed arguments
    config.py      RunConfig: the run's options as one typed object (config.json)
    experiment.py  a training run from a configuration: data, model, optimizer, run folder
    evaluation.py  ``evaluate``: a run on a test split, in numbers and a picture
    confusion.py   the confusion counts, the matrix up to 200 classes, the confused pairs
    predict.py     ``predict``: labels and probabilities for new inputs
    explain.py     ``explain``: the recurrences written out with every shape
    report.py      ``report`` and ``train --report``: what RUN_DIR/report.html shows
    export.py      ``export``: a run's model and preprocessing as an ONNX file
    rerun.py       ``train --config``: a recorded run again, command-line options first
    memory.py      memory plans: what training, evaluation and prediction need
    recipe.py      the options chosen from a table's size when the command line leaves them
    demo.py        the course's two models on Fashion-MNIST (``make course``)
    check.py       ``check`` and ``exercise``: a learner's own backprop, checked (learn/)
    course.py      ``course``: a class's variants, handouts and grading (learn/course/)
"""

from manualnn.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
