"""The catalogue of mistakes: a stable id, the functions it can happen in, and what a teacher
says about it, in English and in Chinese.

Each mistake's code is in ``reference.py``: the lecture's line, and under it the same line
made wrong (a mistake written in several ways has several ``forms``, "id.form" there).
``layered`` mistakes are made at one layer's line, so the checker also tries them at one
layer at a time and names the layer; the others sit in the loss or the loop.

A hint points at the line of the lecture to look at again; it never gives the code.

>>> MISTAKES["missing_mean"].description["en"][:40]
'The 1/m of the mean over the batch is mi'
"""

from __future__ import annotations

from dataclasses import dataclass

LANGS = ("en", "zh")
LOSS, SR, NN, BP, BB = ("softmax_loss", "softmax_regression_epoch", "nn_epoch", "backprop",
                        "backprop_bias")
EPOCHS, GRADS = (SR, NN), (NN, BP, BB)


@dataclass(frozen=True)
class Mistake:
    id: str
    functions: tuple
    description: dict   # lang -> one line, in the lecture's notation
    hint: dict          # lang -> where to look in the lecture
    forms: tuple = ()   # the ways reference.py writes it ("" when one)
    layered: bool = False

    @property
    def mutants(self) -> tuple:
        """The names reference.py knows it by: "id" or "id.form" for each form."""
        return tuple(f"{self.id}.{f}" for f in self.forms) or (self.id,)


def _m(id, functions, en, zh, forms=(), layered=False):
    return Mistake(id, functions, {"en": en[0], "zh": zh[0]}, {"en": en[1], "zh": zh[1]},
                   forms, layered)


_ALL = (
    _m("sigma_prime_of_output", (BP, BB), (
        ("D_i = G_{i+1} o sigma'(Z_{i+1}): sigma' was taken at the layer's output, not at its "
        "input Z_i W_i."),
        ("In D_i = G_{i+1} o sigma'(Z_i W_i), sigma' is evaluated at the pre-activation "
        "Z_i W_i that went into sigma, not at Z_{i+1} = sigma(Z_i W_i): keep Z_i W_i from "
        "the forward pass.")), (
        "D_i = G_{i+1} o sigma'(Z_{i+1})：sigma' 用在了这一层的输出上，而不是它的输入 Z_i W_i。",
        ("在 D_i = G_{i+1} o sigma'(Z_i W_i) 里，sigma' 要在送进 sigma 之前的 Z_i W_i 处求值，"
        "而不是在 Z_{i+1} = sigma(Z_i W_i) 处：前向时把 Z_i W_i 留下来。")), layered=True),
    _m("extra_output_derivative", GRADS, (
        "G_{L+1} was multiplied by sigma'(Z_L W_L) at the output layer, which has no sigma.",
        ("The last layer gives the logits Z_{L+1} = Z_L W_L with no sigma, so D_L = G_{L+1} "
        "= (S - I_y) / m as it is; sigma' belongs to the hidden layers i < L only.")), (
        "在输出层把 G_{L+1} 又乘了 sigma'(Z_L W_L)，可输出层并没有 sigma。",
        ("最后一层给出的是 logits Z_{L+1} = Z_L W_L，没有 sigma，所以 D_L 就是 G_{L+1} = "
        "(S - I_y) / m 本身；sigma' 只属于隐藏层 i < L。")), layered=True),
    _m("missing_mean", (LOSS, *EPOCHS, BP, BB), (
        ("The 1/m of the mean over the batch is missing (a sum where the lecture averages): "
        "the result is m times too large."),
        ("The loss is the mean over the m rows of the batch, so its gradient "
        "G_{L+1} = (S - I_y) / m carries a 1/m, once.")), (
        "少了对批次取平均的 1/m（本该求平均的地方求了和）：结果大了 m 倍。",
        ("损失是对批次中 m 行取的平均，所以它的梯度 G_{L+1} = (S - I_y) / m 带一个 1/m，"
        "而且只带一次。"))),
    _m("double_mean", (LOSS, *EPOCHS, BP, BB), (
        "Divided by m twice (in G_{L+1} and again later): the result is m times too small.",
        ("The 1/m enters once, in G_{L+1} = (S - I_y) / m; grad W_i = Z_i^T D_i inherits it "
        "through D_i and needs no second one.")), (
        "除了两次 m（G_{L+1} 里一次，后面又一次）：结果小了 m 倍。",
        ("1/m 只出现一次，就在 G_{L+1} = (S - I_y) / m 里；grad W_i = Z_i^T D_i 通过 D_i "
        "已经带上了它，不用再除。"))),
    _m("missing_transpose", (*EPOCHS, BP, BB), (
        "A transpose is missing or misplaced in grad W_i = Z_i^T D_i or in G_i = D_i W_i^T.",
        ("Check the shapes: grad W_i is n_i x n_{i+1} like W_i, so it is Z_i^T (n_i x m) "
        "times D_i (m x n_{i+1}); G_i is m x n_i, so D_i times W_i^T. With square layers a "
        "wrong product has the right shape and wrong numbers.")), (
        "grad W_i = Z_i^T D_i 或 G_i = D_i W_i^T 里少了转置，或者转置放错了地方。",
        ("对一对形状：grad W_i 和 W_i 一样是 n_i x n_{i+1}，所以是 Z_i^T (n_i x m) 乘 D_i "
        "(m x n_{i+1})；G_i 是 m x n_i，所以是 D_i 乘 W_i^T。层是方阵时，错的乘积形状也对，"
        "只是数不对。")), forms=("Z", "grad", "W"), layered=True),
    _m("hadamard_as_matmul", (NN, BP, BB), (
        ("G_{i+1} and sigma'(Z_i W_i) were multiplied as matrices; the lecture's o is the "
        "element-wise product."),
        ("In D_i = G_{i+1} o sigma'(Z_i W_i) both factors are m x n_{i+1} and o multiplies "
        "them entry by entry (NumPy's *, not @).")), (
        "把 G_{i+1} 和 sigma'(Z_i W_i) 做了矩阵乘法；讲义里的 o 是逐元素相乘。",
        ("在 D_i = G_{i+1} o sigma'(Z_i W_i) 里，两个因子都是 m x n_{i+1}，o 是对应元素相乘"
        "（NumPy 的 *，不是 @）。")), layered=True),
    _m("wrong_layer_derivative", (BP, BB), (
        ("D_i used sigma' of a neighbouring layer's pre-activation instead of layer i's own "
        "Z_i W_i."),
        ("Each D_i uses the pre-activation of the same layer, D_i = G_{i+1} o sigma'(Z_i W_i): "
        "check the index when you walk the layers backwards.")), (
        "D_i 用了相邻层的预激活的 sigma'，而不是第 i 层自己的 Z_i W_i。",
        ("每个 D_i 用的是同一层的预激活：D_i = G_{i+1} o sigma'(Z_i W_i)。反向逐层往回走时，"
        "检查一下下标。")), forms=("next", "prev"), layered=True),
    _m("bias_grad_mean", (BB,), (
        "grad b_i was the mean of D_i's rows instead of their sum: m times too small.",
        ("grad b_i is D_i^T 1, the sum over the rows of D_i; the 1/m is already inside D_i "
        "through G_{L+1}.")), (
        "grad b_i 取了 D_i 各行的平均而不是求和：小了 m 倍。",
        "grad b_i 是 D_i^T 1，即 D_i 各行之和；1/m 已经通过 G_{L+1} 含在 D_i 里了。"),
        layered=True),
    _m("bias_grad_wrong_axis", (BB,), (
        ("grad b_i was summed along the wrong axis: one number per example instead of one "
        "per unit."),
        ("b_i has n_{i+1} entries, one per column of D_i (m x n_{i+1}): add up the m rows, "
        "i.e. over the examples.")), (
        "grad b_i 沿错误的轴求和：得到每个样本一个数，而不是每个单元一个数。",
        ("b_i 有 n_{i+1} 个分量，对应 D_i (m x n_{i+1}) 的每一列：把 m 行加起来，也就是对样本"
        "求和。")), layered=True),
    _m("premature_update", (NN,), (
        ("W_i was updated before G_i = D_i W_i^T was formed, so the gradient passed to the "
        "layer below went through the new W_i."),
        ("Form every gradient of the batch with the weights of its forward pass first "
        "(G_i = D_i W_i^T uses the old W_i), then update all the W_i.")), (
        "在算出 G_i = D_i W_i^T 之前就更新了 W_i，于是传给下一层的梯度经过的是新的 W_i。",
        ("先用这次前向所用的权重算出这个批次的全部梯度（G_i = D_i W_i^T 用旧的 W_i），"
        "再统一更新所有 W_i。")), layered=True),
    _m("stale_gradients", EPOCHS, (
        ("Gradients were carried over between batches (added to the earlier batches') "
        "instead of computed afresh."),
        ("Each step uses its own batch's gradient only: W_i <- W_i - lr grad W_i, with "
        "grad W_i from this batch's forward and backward pass; nothing accumulates.")), (
        "梯度在批次之间被延续下来（加到了之前批次的梯度上），而不是每次重新计算。",
        ("每一步只用本批次的梯度：W_i <- W_i - lr grad W_i，其中 grad W_i 来自本批次的前向"
        "和反向；不跨批次累加。"))),
    _m("no_max_subtraction", (LOSS, *EPOCHS, BP, BB), (
        ("softmax was computed as exp(z) / sum exp(z) without subtracting the row's maximum: "
        "it overflows (inf, NaN) for large logits."),
        ("softmax(z) = softmax(z - max_j z_j) and log sum_j exp z_j = c + log sum_j "
        "exp(z_j - c) with c = max_j z_j: shift each row before exp.")), (
        ("softmax 直接算成 exp(z) / sum exp(z)，没有先减去每行的最大值：logits 大时会溢出"
        "（inf、NaN）。"),
        ("softmax(z) = softmax(z - max_j z_j)，log sum_j exp z_j = c + log sum_j "
        "exp(z_j - c)，其中 c = max_j z_j：取 exp 之前先把每行平移。"))),
    _m("wrong_one_hot", (LOSS, *EPOCHS, BP, BB), (
        "I_y is built wrong: row j must hold a single 1, in column y_j.",
        ("I_y is m x k with (I_y)_{j, y_j} = 1 and 0 elsewhere: set the entries (j, y_j) for "
        "every row j at once.")), (
        "I_y 构造错了：第 j 行应当只有一个 1，位于第 y_j 列。",
        ("I_y 是 m x k 矩阵，(I_y)_{j, y_j} = 1，其余为 0：一次性给每一行 j 设置 (j, y_j) "
        "这个位置。")), forms=("columns", "rows")),
    _m("gradient_ascent", (*EPOCHS, BP, BB), (
        ("The sign is flipped: the step climbs the loss (W <- W + lr grad W, or G_{L+1} = "
        "I_y - S)."),
        ("Gradient descent subtracts, W_i <- W_i - lr grad W_i, and G_{L+1} = (S - I_y) / m "
        "is probabilities minus targets.")), (
        "符号反了：这一步在让损失变大（W <- W + lr grad W，或 G_{L+1} = I_y - S）。",
        ("梯度下降是减：W_i <- W_i - lr grad W_i，而 G_{L+1} = (S - I_y) / m 是概率减去"
        "目标。"))),
    _m("batch_slicing", EPOCHS, (
        ("The minibatches are cut wrong: the last, shorter batch is dropped, or its mean "
        "divides by the full batch size."),
        ("The batches are X[s : s + batch] for s = 0, batch, 2 batch, ... while s < n; the "
        "last may have fewer rows, and its mean divides by its own m.")), (
        "小批次切错了：最后那个较短的批次被丢掉了，或者它的平均除以了完整的批次大小。",
        ("批次是 X[s : s + batch]，s = 0, batch, 2 batch, ...，直到 s >= n；最后一批可能"
        "行数较少，它的平均要除以它自己的 m。")), forms=("drop_last", "range_end", "short_mean")),
    _m("labels_not_sliced", EPOCHS, (
        "X was cut into batches but y was not: each batch's I_y was built from all labels.",
        ("Slice the labels with the same rows as the inputs: y[s : s + batch] goes with "
        "X[s : s + batch].")), (
        "X 切成了批次，y 却没有：每个批次的 I_y 都是用全部标签构造的。",
        "标签要和输入按同样的行切：y[s : s + batch] 对应 X[s : s + batch]。")),
)

MISTAKES: dict = {m.id: m for m in _ALL}


def for_function(function: str) -> list:
    """The mistakes that can happen in ``function``, in the catalogue's order."""
    return [m for m in _ALL if function in m.functions]
