"""The run configuration: one typed object, whose optimizer and schedule options are the
classes' own, saved as config.json and read back unchanged."""

import dataclasses
import json

import pytest

from manualnn.cli import build_parser
from manualnn.cli.config import DEFAULTS, OPTIMIZER_OPTIONS, SCHEDULE_OPTIONS, RunConfig
from manualnn.train.optim import OPTIMIZERS
from manualnn.train.schedules import SCHEDULES


def test_the_options_of_each_optimizer_and_schedule_are_its_class_attributes():
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    assert set(OPTIMIZER_OPTIONS) == set(OPTIMIZERS) and set(SCHEDULE_OPTIONS) == set(SCHEDULES)
    for name, cls in OPTIMIZERS.items():
        assert OPTIMIZER_OPTIONS[name] == cls.hyper and set(cls.hyper) <= fields
    for name, cls in SCHEDULES.items():
        assert SCHEDULE_OPTIONS[name] == cls.options and set(cls.options) <= fields
    config = RunConfig(optimizer="sgd", momentum=0.5, schedule="step", step_size=3)
    assert config.optimizer_options() == {"momentum": 0.5, "nesterov": False}
    assert config.schedule_options() == {"step_size": 3, "gamma": 0.1}


def test_every_train_option_of_the_command_line_is_a_field():
    args = build_parser().parse_args(["train"])
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    # how this process takes part, not what the run is: a run resumes with any world size
    given = set(vars(args)) - {"command", "resume", "config", "report", "quiet", "given",
                               "distributed"}
    assert given <= fields, given - fields
    assert all(getattr(args, k) == DEFAULTS[k] for k in given if k != "out")


def test_a_config_round_trips_through_json_and_refuses_what_it_does_not_know():
    config = RunConfig.from_dict({"hidden": [8], "optimizer": "sgd", "max_memory": "1M"})
    assert config.max_memory == 1 << 20 and config.hidden == [8]
    again = RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    with pytest.raises(ValueError, match=r"config: unknown options \['colour'\]"):
        RunConfig.from_dict({"colour": "red"})
    with pytest.raises(TypeError, match="config: expected a mapping of options, got list"):
        RunConfig.from_dict([1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 1.0
