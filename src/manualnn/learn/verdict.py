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
        "raised": "raised {error}",
        "at_line": " (line {line})",
        "nonfinite": "returned NaN or inf ({output}, probe '{probe}') where the answer "
                     "is finite",
        "count": "returned {got} arrays; expected {want} ({names})",
        "shape": "returned {output} of shape {got}; expected {want}",
        "load": "the file could not be run: {error}",
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
        "raised": "抛出了 {error}",
        "at_line": "（第 {line} 行）",
        "nonfinite": "在答案有限的地方返回了 NaN 或 inf（{output}，探针 '{probe}'）",
        "count": "返回了 {got} 个数组；应当是 {want} 个（{names}）",
        "shape": "返回的 {output} 形状为 {got}；应当是 {want}",
        "load": "文件无法运行：{error}",
    },
}
VERDICTS = ("correct", "mistake", "unknown", "error")


def say(lang: str, key: str, **values) -> str:
    return TEXTS[lang][key].format(**values)


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
