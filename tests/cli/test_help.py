"""Help and usage errors: every option's help shows its default, and a mistyped option,
command or name gets "did you mean" in the project's one-line format, exit status 2."""

import argparse
import os
import pathlib
import re

import pytest

from manualnn.cli.app import build_parser, main


def _commands():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def _help_of(option: str, text: str) -> str:
    """The help text of ``option`` in ``text`` (up to the next option's line)."""
    start = re.search(rf"^  {re.escape(option)}\b.*$", text, re.MULTILINE)
    assert start, f"{option} is not in the help"
    rest = text[start.start():].splitlines()
    block = [rest[0]] + [ln for ln in _take_until_next(rest[1:])]
    return " ".join(" ".join(block).split())


def _take_until_next(lines):
    for line in lines:
        if re.match(r"^  -|^\S|^$", line):
            return
        yield line


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_option_with_a_value_shows_its_default(command, capsys):
    parser = _commands()[command]
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    for action in parser._actions:
        switch = action.nargs == 0 and not isinstance(action, argparse.BooleanOptionalAction)
        if not action.option_strings or switch:
            continue
        shown = _help_of(action.option_strings[0], text)
        assert "default" in shown, f"{command} {action.option_strings[0]}: {shown}"
        if action.default is not None and not isinstance(action.default, list):
            assert f"(default: {action.default})" in shown or "default" in (action.help or "")


def test_train_help_shows_the_recipe_and_gradcheck_its_own_defaults(capsys):
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    for option, default in [("--epochs", "30"), ("--batch-size", "128"), ("--lr", "0.001"),
                            ("--optimizer", "adamw"), ("--dropout", "0.2"),
                            ("--label-smoothing", "0.1"), ("--hidden", "512,256")]:
        assert f"(default: {default})" in _help_of(option, text), option
    assert main(["gradcheck", "--help"]) == 0
    text = capsys.readouterr().out
    assert "come from the data" not in text
    assert "(default: 20)" in _help_of("--inputs", text)
    assert "(default: 5)" in _help_of("--classes", text)
    assert "(default: 8)" in _help_of("--batch-size", text)


@pytest.mark.parametrize("args, expected", [
    (["train", "--epoch", "1"], "unrecognized arguments: --epoch 1; did you mean '--epochs'?"),
    (["train", "--batchsize=3"], "did you mean '--batch-size'?"),
    (["trian"], ("command: expected one of train, evaluate, predict, gradcheck, explain, "
                "report, export, check, exercise, course, got 'trian'; did you mean 'train'?")),
    (["train", "--activation", "rleu"], ("--activation: expected one of gelu, identity, "
                                         "leaky_relu, relu, sigmoid, softplus, tanh, got "
                                         "'rleu'; did you mean 'relu'?")),
    (["train", "--optimizer", "adamm"], "did you mean 'adam'?"),
    (["train", "--loss", "mes"], "did you mean 'mse'?"),
    (["train", "--dataset", "fashion", "--epochs", "1"], ("got 'fashion'; did you mean "
                                                          "'fashion-mnist'?")),
    (["gradcheck", "--batch-size", "many"], "--batch-size: expected an integer, got 'many'"),
    (["train", "--lr", "fast"], "--lr: expected a number, got 'fast'"),
    (["evaluate"], "manualnn: error: evaluate: the following arguments are required: RUN_DIR"),
])
def test_a_mistake_is_one_line_with_the_close_matches(args, expected, capsys, tmp_path):
    if "--dataset" in args:
        args = [*args, "--out", str(tmp_path / "r")]
    assert main(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1, captured.err
    assert lines[0].startswith("manualnn: error: ") and expected in lines[0], lines[0]


def test_nothing_close_suggests_nothing(capsys):
    assert main(["train", "--learning-rate", "3"]) == 2
    assert "did you mean" not in capsys.readouterr().err


def test_the_library_names_close_matches_too():
    from manualnn import get_activation, get_loss
    from manualnn.train.optim import get_optimizer
    with pytest.raises(ValueError, match=r"did you mean 'tanh'\?"):
        get_activation("tahn")
    with pytest.raises(ValueError, match=r"did you mean 'softmax_cross_entropy'\?"):
        get_loss("softmax_crossentropy")
    with pytest.raises(ValueError, match=r"did you mean 'sgd'\?"):
        get_optimizer("sdg", [])


DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "guide" / "help.md"


def _doc_examples():
    """(command line, lines shown) of each ``$ manualnn ...`` in docs/guide/help.md."""
    blocks = re.findall(r"```console\n(.*?)```", DOC.read_text(), re.DOTALL)
    for block in blocks:
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, *shown = chunk.rstrip("\n").split("\n")
            yield command.split()[1:], shown


@pytest.mark.parametrize("args, shown", list(_doc_examples()), ids=lambda v: " ".join(v)
                         if isinstance(v, list) and v and v[0][:1] != " " else None)
def test_the_help_page_shows_what_the_command_prints(args, shown, capsys, monkeypatch,
                                                      tmp_path):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(tmp_path)   # a refused training makes no run folder here either
    code = main(args)
    out = capsys.readouterr()
    if "--help" in args:   # an excerpt: each line as the help prints it
        assert code == 0
        printed = out.out.splitlines()
        for line in shown:
            assert line.rstrip() in printed, line
    else:
        assert code == 2 and out.err.splitlines() == shown
    assert not (tmp_path / "runs").exists() or not os.listdir(tmp_path / "runs")


def test_the_help_page_shows_the_librarys_message():
    from manualnn import get_activation
    shown = re.search(r"^ValueError: (.*)$", DOC.read_text(), re.MULTILINE).group(1)
    with pytest.raises(ValueError) as caught:
        get_activation("tahn")
    assert str(caught.value) == shown
