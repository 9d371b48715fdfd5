"""Verdict: what the checker says about one function, for people and for graders.

    function       the learner's function ("backprop", "nn_epoch", ...)
    verdict        "correct", "mistake" (a catalogued one), "unknown" (wrong, but none of
                   the catalogue's), or "error" (it raised, timed out, crashed, returned
                   the wrong type or shape, or NaN)
    mistake        the catalogue id (verdict "mistake"), else None
    layer          the lecture's layer i where the mistake is made (or, for "unknown",
                   the first layer that disagrees going backward), else None
    message        one line: what is wrong, in the lecture's notation
    hint           where to look in the lecture (verdict "mistake"), else ""
    line           the learner's line number of an error, else None
    probes_passed  probes on which the function gave the right answer, of probes_total

``to_dict()`` is plain JSON (``manualnn check --format json``); ``text()`` is for people.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

TEXTS = {
    "en": {
        "correct": "correct on all {total} probes",
        "layer": " (layer {layer})",
        "passed": "{passed} of {total} probes right",
        "hint": "hint: ",
        "unknown": "wrong, and not a mistake the checker knows: {detail}",
        "off": "{output} is off by a relative {err:.2g} on probe '{probe}'",
        "first_layer": "; going backward from the loss, layer {layer} is the first that "
                       "disagrees",
        "sigma_output": "; sigma' was handed Z_{i1} = sigma(Z_{i} W_{i}), a layer's output",
        "sigma_other": "; sigma' was handed an array (shape {shape}) that is none of the "
                       "pre-activations Z_i W_i",
        "sigma_never": "; sigma' was never called",
        "forward_wrong": "; already in the forward pass, sigma's call {call} was handed an "
                         "array (shape {shape}) that is none of the pre-activations "
                         "Z_i W_i (+ b_i)",
        "raised": "raised {error}",
        "todo": "not written yet: it still raises NotImplementedError",
        "at_line": " (line {line})",
        "nonfinite": "returned NaN or inf ({output}, probe '{probe}') where the answer "
                     "is finite",
        "count": "returned {got} arrays; expected {want} ({names})",
        "shape": "returned {output} of shape {got}; expected {want}",
        "load": "the file could not be run: {error}",
        "timeout": "did not finish within {seconds:g} s (an endless loop?)",
        "cpu": "used more than {seconds} s of CPU time",
        "refused": "refused: imports {module}",
        "memory": "ran out of memory (the limit is {mib} MiB): {error}",
        "memory_free": "ran out of memory: {error}",
        "fsize": "wrote a file larger than 64 MiB",
        "signal": "crashed with signal {name}",
        "signal_memory": "crashed with signal {name} (out of memory? the limit is {mib} MiB)",
        "exit": "ended the process with exit status {code} (os._exit?)",
        "silent": "the checker's child process stopped without a word",
        "unreadable": "returned arrays the checker could not read back",
        "unchanged": "left {names} unchanged: the course's {function} updates them in place "
                     "(W -= lr * grad W)",
        "not_pair": "returned {kind}; expected a pair (grads_W, grads_b)",
        "not_list": "returned {kind}; expected a list {what}",
        "not_numbers": "{what} is {kind}, not an array of numbers",
        "not_scalar": "{what} has shape {shape}; expected one number",
    },
    "zh": {
        "correct": "全部 {total} 个探针都正确",
        "layer": "（第 {layer} 层）",
        "passed": "{total} 个探针中对了 {passed} 个",
        "hint": "提示：",
        "unknown": "结果不对，而且不是检查器认识的错误：{detail}",
        "off": "{output} 在探针 '{probe}' 上的相对误差为 {err:.2g}",
        "first_layer": "；从损失往回看，第一个出错的是第 {layer} 层",
        "sigma_output": "；交给 sigma' 的是 Z_{i1} = sigma(Z_{i} W_{i})，即某一层的输出",
        "sigma_other": "；交给 sigma' 的数组（形状 {shape}）不是任何一个预激活 Z_i W_i",
        "sigma_never": "；从来没有调用 sigma'",
        "forward_wrong": "；前向传播就已经不对：第 {call} 次调用 sigma 时交给它的数组（形状 {shape}）"
                         "不是任何一个预激活 Z_i W_i (+ b_i)",
        "raised": "抛出了 {error}",
        "todo": "还没有写：它仍然抛出 NotImplementedError",
        "at_line": "（第 {line} 行）",
        "nonfinite": "在答案有限的地方返回了 NaN 或 inf（{output}，探针 '{probe}'）",
        "count": "返回了 {got} 个数组；应当是 {want} 个（{names}）",
        "shape": "返回的 {output} 形状为 {got}；应当是 {want}",
        "load": "文件无法运行：{error}",
        "timeout": "{seconds:g} 秒内没有结束（死循环？）",
        "cpu": "用了超过 {seconds} 秒的 CPU 时间",
        "refused": "拒绝：导入了 {module}",
        "memory": "内存不足（上限 {mib} MiB）：{error}",
        "memory_free": "内存不足：{error}",
        "fsize": "写了一个大于 64 MiB 的文件",
        "signal": "因信号 {name} 崩溃",
        "signal_memory": "因信号 {name} 崩溃（内存不足？上限 {mib} MiB）",
        "exit": "以退出状态 {code} 结束了进程（os._exit？）",
        "silent": "检查器的子进程一声不响地停止了",
        "unreadable": "返回的数组检查器读不回来",
        "unchanged": "没有改变 {names}：课程里的 {function} 要原地更新它们（W -= lr * grad W）",
        "not_pair": "返回了 {kind}；应当返回一对 (grads_W, grads_b)",
        "not_list": "返回了 {kind}；应当返回列表 {what}",
        "not_numbers": "{what} 是 {kind}，不是数值数组",
        "not_scalar": "{what} 的形状是 {shape}；应当是一个数",
    },
}
VERDICTS = ("correct", "mistake", "unknown", "error")


def say(lang: str, key: str, **values) -> str:
    return TEXTS[lang][key].format(**values)


def failure_text(lang: str, outcome: dict) -> str:
    """One line for a failed outcome ({"status", "error" or "say" + "values"})."""
    if outcome.get("say") in TEXTS[lang]:
        try:
            return say(lang, outcome["say"], **outcome.get("values", {}))
        except (KeyError, ValueError, IndexError, TypeError):   # the child's values: untrusted
            pass
    if outcome.get("status") == "raised":
        error = outcome.get("error", "")
        return say(lang, "todo") if error == "NotImplementedError" else say(lang, "raised",
                                                                            error=error)
    return outcome.get("error") or outcome.get("status", "?")


@dataclass
class Verdict:
    function: str
    verdict: str
    mistake: str | None = None
    layer: int | None = None
    message: str = ""
    hint: str = ""
    line: int | None = None
    probes_passed: int = 0
    probes_total: int = 0
    lang: str = "en"

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict: expected one of {', '.join(VERDICTS)}, "
                             f"got {self.verdict!r}")
        if self.lang not in TEXTS:
            raise ValueError(f"lang: expected one of {', '.join(TEXTS)}, got {self.lang!r}")

    def to_dict(self) -> dict:
        out = asdict(self)
        del out["lang"]
        return out

    def text(self) -> str:
        """Two or three lines: the verdict, what is wrong, and the hint."""
        head = f"{self.function}: {self.verdict}"
        if self.mistake:
            head += f" {self.mistake}"
        if self.layer is not None and self.verdict == "mistake":
            head += say(self.lang, "layer", layer=self.layer)
        if self.verdict != "correct" and self.probes_total:
            head += f" [{say(self.lang, 'passed', passed=self.probes_passed, total=self.probes_total)}]"
        lines = [head, f"  {self.message}"]
        if self.hint:
            lines.append(f"  {say(self.lang, 'hint')}{self.hint}")
        return "\n".join(lines)
