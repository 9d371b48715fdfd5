"""``manualnn check FILE.py`` and ``manualnn exercise FILE.py``: the learner's commands.

``check`` runs the learner's functions in a child process with limits (learn/runner.py)
and prints a verdict per function: text for people, ``--format json`` for graders.  Its
exit status is 0 when every function found is correct, 1 when any is not, and 2 for a bad
command line or a file that cannot be read or defines none of the functions.
``exercise`` writes the file to fill in.  ``--lang`` defaults to the locale (zh for a
Chinese one, en otherwise).
"""

from __future__ import annotations

import argparse
import json
import os

from manualnn.learn.probes import FUNCTIONS
from manualnn.learn.variant import ACTIVATIONS, Variant

DEFAULT = Variant()


def default_lang(environ=None) -> str:
    """zh where the locale (LC_ALL, LC_MESSAGES, LANG, in that order) is Chinese, else en."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return "zh" if environ[name].lower().startswith("zh") else "en"
    return "en"


def _widths(text):
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}"
                                         [:200]) from None


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"expected seconds in (0, 3600], got {text!r}"[:200])
    return value


def _add_common(p):
    p.add_argument("file", metavar="FILE.py")
    p.add_argument("--function", action="append", choices=FUNCTIONS, metavar="NAME",
                   help=f"only these functions (repeatable): {', '.join(FUNCTIONS)}")
    p.add_argument("--lang", choices=["en", "zh"], default=None,
                   help="language of messages and hints (default: from the locale)")
    g = p.add_argument_group("variant (the probes' shapes; a course may hand you one)")
    g.add_argument("--widths", type=_widths, default=DEFAULT.widths,
                   help="n_1,...,n_(L+1) for backprop (default "
                        f"{','.join(map(str, DEFAULT.widths))})")
    g.add_argument("--batch", type=int, default=DEFAULT.batch,
                   help=f"the epoch functions' batch (default {DEFAULT.batch})")
    g.add_argument("--activation", choices=ACTIVATIONS, default=DEFAULT.activation,
                   help=f"sigma handed to backprop (default {DEFAULT.activation})")
    g.add_argument("--seed", type=int, default=DEFAULT.seed, help="the probe data's seed")
    g.add_argument("--dtype", choices=["float64", "float32"], default=DEFAULT.dtype)


def add_parsers(sub):
    """The ``check`` and ``exercise`` subcommands on the parser's ``sub``."""
    ch = sub.add_parser("check", help="run your own backprop and name the mistake in it")
    _add_common(ch)
    ch.add_argument("--format", choices=["text", "json"], default="text")
    ch.add_argument("--timeout", type=_seconds, default=10.0,
                    help="seconds your file may run (default 10)")
    ch.add_argument("--forbid", action="append", default=[], metavar="MODULE",
                    help="refuse this import in your file (repeatable), e.g. torch")
    ex = sub.add_parser("exercise", help="write the file of functions to fill in")
    _add_common(ex)
    ex.add_argument("--force", action="store_true", help="overwrite FILE.py if it exists")


def _variant(args) -> Variant:
    return Variant(widths=args.widths, batch=args.batch, activation=args.activation,
                   seed=args.seed, dtype=args.dtype)


def check(args) -> int:
    from manualnn.learn.check import check_file
    lang = args.lang or default_lang()
    verdicts = check_file(args.file, functions=args.function, variant=_variant(args),
                          lang=lang, timeout=args.timeout, forbidden_imports=args.forbid)
    if args.format == "json":
        print(json.dumps([v.to_dict() for v in verdicts], ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(v.text() for v in verdicts))
    return 0 if all(v.verdict == "correct" for v in verdicts) else 1


def exercise(args) -> int:
    from manualnn.learn.skeleton import write_skeleton
    lang = args.lang or default_lang()
    path = write_skeleton(args.file, args.function, _variant(args), lang, force=args.force)
    print({"en": f"wrote {path}; fill in the functions, then run: manualnn check {path}",
           "zh": f"已写入 {path}；完成其中的函数后运行：manualnn check {path}"}[lang])
    return 0
