"""``manualnn train --config RUN_DIR/config.json``: a recorded run again, as a new run.

The file gives every option; those the command line gives override it.  What belongs to
a machine or to one training is not taken from the file: ``--download`` (a foreign
config.json never starts a download), ``--max-memory`` and the run folder (``--out``, or
a new ``runs/<dataset>-<time>``: the recorded one already holds its run).
"""

from __future__ import annotations

import os

from manualnn.checks import DataError
from manualnn.cli.config import DEFAULTS, RunConfig
from manualnn.io.rundir import CONFIG, MAX_CONFIG
from manualnn.io.tensorfile import read_json

FROM_THIS_COMMAND = {"download", "max_memory", "out"}


def read_config_file(path) -> dict:
    """The options of a config.json (or of RUN_DIR's config.json), a JSON object."""
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, CONFIG)
    if os.path.islink(path) or not os.path.isfile(path):
        raise DataError(f"config: {path}: no such regular file")
    config = read_json(path, MAX_CONFIG)
    if not isinstance(config, dict):
        raise DataError(f"config: {path}: expected a JSON object of options")
    return config


def config_from_file(args, default_out) -> RunConfig:
    """The RunConfig of ``args.config`` with every option in ``args.given`` taken from
    the command line instead; ``default_out(dataset)`` names the folder without --out."""
    recorded = read_config_file(args.config)
    unknown = sorted(set(recorded) - set(DEFAULTS))
    if unknown:
        raise DataError(f"config: {args.config}: unknown options {unknown}")
    config = {k: v for k, v in recorded.items() if k not in FROM_THIS_COMMAND}
    given = args.given & set(DEFAULTS)
    config.update({k: getattr(args, k) for k in given})
    config["download"], config["max_memory"] = args.download, args.max_memory
    # --hidden and --layers say the same thing: the one given replaces the file's other
    if "hidden" in given and "layers" not in given:
        config["layers"] = None
    if "layers" in given and "hidden" not in given:
        config.pop("hidden", None)
    config["out"] = args.out or default_out(config.get("dataset", DEFAULTS["dataset"]))
    return RunConfig.from_dict(config)
