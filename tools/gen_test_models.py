#!/usr/bin/env python3
"""Generates random-weight decoder-only ONNX models (with KV cache) in the folder layouts that real
exports use (optimum / transformers.js, optimum merged, ONNX Runtime GenAI), for ortlm's tests and
benchmarks. Deterministic: fixed seeds, same bytes on every run.

  gen_test_models.py --out DIR --tests                 # the small test set (default)
  gen_test_models.py --out DIR --only llama-merged     # one model
  gen_test_models.py --out DIR --preset smollm2-135m   # SmolLM2-135M-shaped Llama (~540 MB)

Needs only numpy and onnx (Debian's /usr/bin/python3)."""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STORIES_DIR = os.path.join(REPO, "models", "stories260k")
GPT2_TOKENIZER_DIR = os.path.join(REPO, "..", "shared", "models", "tiny-random-gpt2-fp32")
OPSET = 17
INT64_MAX = np.iinfo(np.int64).max
NEG_INF = -1e9  # additive value of a masked attention score (finite, so fully masked rows stay NaN-free)


# ---------------------------------------------------------------------------------------------
# Graph building
# ---------------------------------------------------------------------------------------------
class Graph:
    """Collects nodes and initializers; hands out unique value names (prefix keeps subgraphs apart)."""

    def __init__(self, prefix=""):
        self.prefix, self.nodes, self.inits, self.count, self.consts = prefix, [], [], 0, {}

    def name(self, hint):
        self.count += 1
        return f"{self.prefix}{hint}_{self.count}"

    def op(self, op_type, inputs, hint=None, outputs=1, domain=None, **attrs):
        """Adds one node; returns its output name (or list of names when outputs > 1 or a list)."""
        outs = outputs if isinstance(outputs, list) else [self.name(hint or op_type) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.name(op_type + "_node"),
                                           domain=domain, **attrs))
        return outs if len(outs) > 1 or isinstance(outputs, list) else outs[0]

    def const(self, value, dtype=np.int64):
        """A small constant initializer (deduplicated by value)."""
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self.consts:
            self.consts[key] = self.name("const")
            self.inits.append(numpy_helper.from_array(arr, self.consts[key]))
        return self.consts[key]

    # Shorthands for the handful of ops used over and over.
    def dim(self, x, axis):
        """Dimension `axis` of x as an int64 tensor of shape [1]."""
        return self.op("Shape", [x], "dim", start=axis, end=axis + 1)

    def reshape(self, x, shape):
        return self.op("Reshape", [x, shape if isinstance(shape, str) else self.const(shape)], "reshape")

    def concat(self, xs, axis):
        return self.op("Concat", xs, "concat", axis=axis)

    def mm(self, x, w):
        return self.op("MatMul", [x, w], "matmul")


def value_info(name, elem, dims):
    return helper.make_tensor_value_info(name, elem, dims)


def init_rng(seed):
    return np.random.default_rng(seed)


def normal(rng, shape, std):
    return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Model configurations
# ---------------------------------------------------------------------------------------------
# Test-size Llama: GQA (4 query heads, 2 KV heads), untied lm_head so greedy output varies.
LLAMA_TEST = dict(vocab=512, hidden=64, layers=2, heads=4, kv_heads=2, head_dim=16, inter=128,
                  max_pos=256, theta=10000.0, eps=1e-5, tied=False, bos=1, eos=2, init="test")
# SmolLM2-135M's shape with random weights (benchmarks only).
SMOLLM2 = dict(vocab=49152, hidden=576, layers=30, heads=9, kv_heads=3, head_dim=64, inter=1536,
               max_pos=2048, theta=100000.0, eps=1e-5, tied=True, bos=1, eos=2, init="hf")
GPT2_TEST = dict(vocab=1000, hidden=32, layers=2, heads=4, kv_heads=4, head_dim=8, inter=128,
                 max_pos=256, eps=1e-5, tied=False, bos=98, eos=98)


def llama_weights(cfg, rng, dtype):
    """Llama parameters, MatMul layout ([in, out]). init 'hf' is HF's N(0, 0.02); 'test' scales by
    fan-in so that random logits are well separated (robust greedy comparisons)."""
    H, D, Hq, Hkv, F, V = cfg["hidden"], cfg["head_dim"], cfg["heads"], cfg["kv_heads"], cfg["inter"], cfg["vocab"]
    hf = cfg["init"] == "hf"

    def lin(fan_in, fan_out, gain=1.0):
        return normal(rng, (fan_in, fan_out), 0.02 if hf else gain / np.sqrt(fan_in))

    def norm_w():
        return np.ones(H, np.float32) if hf else (1.0 + normal(rng, (H,), 0.1))

    w = {"model.embed_tokens.weight": normal(rng, (V, H), 0.02 if hf else 1.0)}
    for i in range(cfg["layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm_w()
        w[p + "self_attn.q_proj.weight"] = lin(H, Hq * D)
        w[p + "self_attn.k_proj.weight"] = lin(H, Hkv * D)
        w[p + "self_attn.v_proj.weight"] = lin(H, Hkv * D)
        w[p + "self_attn.o_proj.weight"] = lin(Hq * D, H)
        w[p + "post_attention_layernorm.weight"] = norm_w()
        w[p + "mlp.gate_proj.weight"] = lin(H, F)
        w[p + "mlp.up_proj.weight"] = lin(H, F)
        w[p + "mlp.down_proj.weight"] = lin(F, H)
    w["model.norm.weight"] = norm_w()
    if not cfg["tied"]:
        w["lm_head.weight"] = lin(H, V, gain=3.0)
    return {k: v.astype(dtype) for k, v in w.items()}


def gpt2_weights(cfg, rng):
    H, F, V = cfg["hidden"], cfg["inter"], cfg["vocab"]
    w = {"transformer.wte.weight": normal(rng, (V, H), 1.0),
         "transformer.wpe.weight": normal(rng, (cfg["max_pos"], H), 0.5)}
    for i in range(cfg["layers"]):
        p = f"transformer.h.{i}."
        for ln in ("ln_1", "ln_2"):
            w[p + ln + ".weight"] = 1.0 + normal(rng, (H,), 0.1)
            w[p + ln + ".bias"] = normal(rng, (H,), 0.1)
        w[p + "attn.c_attn.weight"] = normal(rng, (H, 3 * H), 1.0 / np.sqrt(H))
        w[p + "attn.c_attn.bias"] = normal(rng, (3 * H,), 0.1)
        w[p + "attn.c_proj.weight"] = normal(rng, (H, H), 1.0 / np.sqrt(H))
        w[p + "attn.c_proj.bias"] = normal(rng, (H,), 0.1)
        w[p + "mlp.c_fc.weight"] = normal(rng, (H, F), 1.0 / np.sqrt(H))
        w[p + "mlp.c_fc.bias"] = normal(rng, (F,), 0.1)
        w[p + "mlp.c_proj.weight"] = normal(rng, (F, H), 1.0 / np.sqrt(F))
        w[p + "mlp.c_proj.bias"] = normal(rng, (H,), 0.1)
    w["transformer.ln_f.weight"] = 1.0 + normal(rng, (H,), 0.1)
    w["transformer.ln_f.bias"] = normal(rng, (H,), 0.1)
    if not cfg["tied"]:
        w["lm_head.weight"] = normal(rng, (H, V), 3.0 / np.sqrt(H))
    return w


def rope_tables(cfg, half=False):
    """cos/sin tables [max_pos, head_dim] (HF 'rotate half' layout), or [max_pos, head_dim/2]."""
    D = cfg["head_dim"]
    inv_freq = 1.0 / (cfg["theta"] ** (np.arange(0, D, 2, dtype=np.float64) / D))
    freqs = np.outer(np.arange(cfg["max_pos"], dtype=np.float64), inv_freq)
    if not half:
        freqs = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(freqs).astype(np.float32), np.sin(freqs).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Shared decoder pieces (standard ops)
# ---------------------------------------------------------------------------------------------
class Ctx:
    """Per-graph values every layer needs: shapes, attention mask, position ids, weight getter."""

    def __init__(self, g, weights_dtype):
        self.g, self.cast_weights = g, weights_dtype == np.float16
        self.cache = {}

    def w(self, name):
        """A weight as fp32 (fp16-stored weights go through one Cast each, folded by ORT)."""
        if not self.cast_weights:
            return name
        if name not in self.cache:
            self.cache[name] = self.g.op("Cast", [name], "w32", to=TensorProto.FLOAT)
        return self.cache[name]


def attention_bias(g, past_len):
    """Additive mask [B, 1, S, K] (K = past_len + S keys): causal + attention_mask padding."""
    S = g.dim("input_ids", 1)
    K = g.op("Add", [past_len, S], "kv_len")
    k_pos = g.op("Range", [g.const(0), g.op("Squeeze", [K]), g.const(1)], "k_pos")  # [K]
    q_pos = g.op("Range", [g.op("Squeeze", [past_len]), g.op("Squeeze", [K]), g.const(1)], "q_pos")  # [S]
    causal = g.op("LessOrEqual", [k_pos, g.op("Unsqueeze", [q_pos, g.const([1])])], "causal")  # [S, K]
    # The last K columns of attention_mask are the keys' padding flags.
    pad = g.op("Slice", ["attention_mask", g.op("Neg", [K]), g.const([INT64_MAX]), g.const([1])], "pad")
    pad = g.op("Unsqueeze", [g.op("Cast", [pad], "pad_b", to=TensorProto.BOOL), g.const([1, 2])], "pad4")
    allowed = g.op("And", [causal, pad], "allowed")  # [B, 1, S, K]
    return g.op("Where", [allowed, g.const(0.0, np.float32), g.const(NEG_INF, np.float32)], "attn_bias")


def positions_from_mask(g):
    """position_ids [B, S] derived from attention_mask: cumsum - 1 (padding clamped to 0), last S."""
    pos = g.op("Sub", [g.op("CumSum", ["attention_mask", g.const(1)], "cumsum"), g.const(1)], "pos_all")
    pos = g.op("Max", [pos, g.const(0)], "pos_clamped")
    return g.op("Slice", [pos, g.op("Neg", [g.dim("input_ids", 1)]), g.const([INT64_MAX]), g.const([1])], "pos")


def heads(g, x, n, D):
    """[B, S, n*D] -> [B, n, S, D]."""
    return g.op("Transpose", [g.reshape(x, [0, 0, n, D])], "heads", perm=[0, 2, 1, 3])


def kv_cache(g, new, past_name, present_name, io_fp16):
    """Appends new K or V [B, h, S, D] (fp32) to the past; returns (present output, fp32 keys to use).
    fp16 I/O rounds the new entries to fp16 first so that cached and recomputed runs agree."""
    if io_fp16:
        new = g.op("Cast", [new], "kv16", to=TensorProto.FLOAT16)
    outs = [present_name] if present_name else 1
    if past_name is None:  # no-past branch of a merged decoder
        present = g.op("Identity", [new], "present", outputs=outs)
    else:
        present = g.op("Concat", [past_name, new], "present", outputs=outs, axis=2)
    present = present[0] if present_name else present
    used = g.op("Cast", [present], "kv32", to=TensorProto.FLOAT) if io_fp16 else present
    return present, used


def attend(g, q, k, v, bias, Hq, Hkv, D):
    """Scaled dot-product attention; q [B, Hq, S, D], k/v [B, Hkv, K, D] (query head h uses KV head
    h // (Hq/Hkv), as HF's repeat_kv). Query heads are folded into the KV-head axis so no KV copy is
    needed. Returns [B, S, Hq*D]."""
    q = g.op("Mul", [q, g.const(1.0 / np.sqrt(D), np.float32)], "q_scaled")
    if Hq != Hkv:
        q = g.reshape(q, [0, Hkv, -1, D])  # [B, Hkv, rep*S, D]
    scores = g.op("MatMul", [q, g.op("Transpose", [k], "kT", perm=[0, 1, 3, 2])], "scores")
    if Hq != Hkv:
        scores = g.reshape(scores, [0, Hq, -1, 0])  # [B, Hq, S, K]
    probs = g.op("Softmax", [g.op("Add", [scores, bias], "masked")], "probs", axis=-1)
    if Hq != Hkv:
        probs = g.reshape(probs, [0, Hkv, -1, 0])
    ctx = g.op("MatMul", [probs, v], "ctx")
    if Hq != Hkv:
        ctx = g.reshape(ctx, [0, Hq, -1, D])
    return g.reshape(g.op("Transpose", [ctx], "ctx_t", perm=[0, 2, 1, 3]), [0, 0, Hq * D])


def rms_norm(c, x, wname, eps):
    g = c.g
    ms = g.op("ReduceMean", [g.op("Mul", [x, x], "sq")], "ms", axes=[-1], keepdims=1)
    rstd = g.op("Div", [g.const(1.0, np.float32), g.op("Sqrt", [g.op("Add", [ms, g.const(eps, np.float32)])])])
    return g.op("Mul", [g.op("Mul", [x, rstd], "normed"), c.w(wname)], "rms")


def rope(g, x, cos, sin, D):
    """HF rotate-half RoPE: x*cos + cat(-x2, x1)*sin; x [B, h, S, D], cos/sin [B, 1, S, D]."""
    x1, x2 = g.op("Split", [x, g.const([D // 2, D // 2])], "half", outputs=2, axis=-1)
    rot = g.concat([g.op("Neg", [x2]), x1], -1)
    return g.op("Add", [g.op("Mul", [x, cos]), g.op("Mul", [rot, sin])], "roped")


# ---------------------------------------------------------------------------------------------
# Decoder bodies
# ---------------------------------------------------------------------------------------------
def llama_body(g, cfg, opt, past_fmt):
    """Emits a Llama decoder into g: embeddings -> layers -> logits. Reads the graph inputs by name
    (input_ids, attention_mask, [position_ids], past). past_fmt None: no past (merged no-cache branch).
    opt: position_ids (bool), io_fp16 (bool), weights dtype, gqa (com.microsoft GroupQueryAttention).
    Outputs are named logits, present.N.key|value (after g's prefix); returns those names."""
    present_fmt = g.prefix + "present.%d.%s"
    c = Ctx(g, opt["wdtype"])
    D, Hq, Hkv, L = cfg["head_dim"], cfg["heads"], cfg["kv_heads"], cfg["layers"]
    x = g.op("Gather", [c.w("model.embed_tokens.weight"), "input_ids"], "embeds", axis=0)
    if opt["gqa"]:
        # GroupQueryAttention does RoPE (positions from seqlens_k), causality and the KV concat.
        seqlens_k = g.op("Cast", [g.op("Sub", [g.op("ReduceSum", ["attention_mask", g.const([1])], "mask_sum",
                                                   keepdims=0), g.const(1)])], "seqlens_k", to=TensorProto.INT32)
        total_len = g.op("Cast", [g.op("Gather", [g.op("Shape", ["attention_mask"]), g.const(1)], "total")],
                         "total_seq_len", to=TensorProto.INT32)
        cos_cache, sin_cache = "cos_cache", "sin_cache"
    else:
        past_len = g.dim(past_fmt % (0, "key"), 2) if past_fmt else g.const([0])
        bias = attention_bias(g, past_len)
        pos = "position_ids" if opt["position_ids"] else positions_from_mask(g)
        cos = g.op("Unsqueeze", [g.op("Gather", ["rope_cos", pos], "cos_g"), g.const([1])], "cos")
        sin = g.op("Unsqueeze", [g.op("Gather", ["rope_sin", pos], "sin_g"), g.const([1])], "sin")
    presents = []
    for i in range(L):
        p = f"model.layers.{i}."
        h = rms_norm(c, x, p + "input_layernorm.weight", cfg["eps"])
        q = g.mm(h, c.w(p + "self_attn.q_proj.weight"))
        k = g.mm(h, c.w(p + "self_attn.k_proj.weight"))
        v = g.mm(h, c.w(p + "self_attn.v_proj.weight"))
        pk, pv = present_fmt % (i, "key"), present_fmt % (i, "value")
        if opt["gqa"]:
            a, _, _ = g.op("GroupQueryAttention",
                           [q, k, v, past_fmt % (i, "key"), past_fmt % (i, "value"), seqlens_k, total_len,
                            cos_cache, sin_cache], outputs=[g.name("gqa"), pk, pv], domain="com.microsoft",
                           num_heads=Hq, kv_num_heads=Hkv, do_rotary=1, rotary_interleaved=0)
        else:
            q = rope(g, heads(g, q, Hq, D), cos, sin, D)
            k = rope(g, heads(g, k, Hkv, D), cos, sin, D)
            _, k = kv_cache(g, k, past_fmt and past_fmt % (i, "key"), pk, opt["io_fp16"])
            _, v = kv_cache(g, heads(g, v, Hkv, D), past_fmt and past_fmt % (i, "value"), pv, opt["io_fp16"])
            a = attend(g, q, k, v, bias, Hq, Hkv, D)
        x = g.op("Add", [x, g.mm(a, c.w(p + "self_attn.o_proj.weight"))], "resid_attn")
        h = rms_norm(c, x, p + "post_attention_layernorm.weight", cfg["eps"])
        gate = g.mm(h, c.w(p + "mlp.gate_proj.weight"))
        act = g.op("Mul", [gate, g.op("Sigmoid", [gate])], "silu")
        up = g.mm(h, c.w(p + "mlp.up_proj.weight"))
        x = g.op("Add", [x, g.mm(g.op("Mul", [act, up], "swiglu"), c.w(p + "mlp.down_proj.weight"))], "resid_mlp")
        presents += [pk, pv]
    x = rms_norm(c, x, "model.norm.weight", cfg["eps"])
    head = (g.op("Transpose", [c.w("model.embed_tokens.weight")], "lm_head", perm=[1, 0]) if cfg["tied"]
            else c.w("lm_head.weight"))
    logits = [g.prefix + "logits"]
    if opt["io_fp16"]:
        g.op("Cast", [g.mm(x, head)], outputs=logits, to=TensorProto.FLOAT16)
    else:
        g.op("MatMul", [x, head], outputs=logits)
    return logits + presents


def gpt2_body(g, cfg, combined):
    """GPT-2: learned positions, pre-LayerNorm blocks, fused c_attn, tanh-GELU MLP, lm_head (tied or not).
    combined: GenAI's past_%d / present_%d layout, key and value stacked on axis 0 ([2, B, h, T, D])."""
    H, nH, L = cfg["hidden"], cfg["heads"], cfg["layers"]
    D = H // nH
    x = g.op("Add", [g.op("Gather", ["transformer.wte.weight", "input_ids"], "tok_emb"),
                     g.op("Gather", ["transformer.wpe.weight", "position_ids"], "pos_emb")], "embeds")
    bias = attention_bias(g, g.dim("past_0", 3) if combined else g.dim("past_key_values.0.key", 2))

    def ln(x, p):
        return g.op("LayerNormalization", [x, p + ".weight", p + ".bias"], "ln", axis=-1, epsilon=cfg["eps"])

    def linear(x, p):
        return g.op("Add", [g.mm(x, p + ".weight"), p + ".bias"], "linear")

    for i in range(L):
        p = f"transformer.h.{i}."
        q, k, v = g.op("Split", [linear(ln(x, p + "ln_1"), p + "attn.c_attn"), g.const([H, H, H])], "qkv",
                       outputs=3, axis=-1)
        if combined:
            past_k, past_v = (g.op("Gather", [f"past_{i}", g.const(j)], "past_kv", axis=0) for j in (0, 1))
            k, _ = kv_cache(g, heads(g, k, nH, D), past_k, None, False)
            v, _ = kv_cache(g, heads(g, v, nH, D), past_v, None, False)
            g.op("Concat", [g.op("Unsqueeze", [t, g.const([0])]) for t in (k, v)], outputs=[f"present_{i}"], axis=0)
        else:
            _, k = kv_cache(g, heads(g, k, nH, D), f"past_key_values.{i}.key", f"present.{i}.key", False)
            _, v = kv_cache(g, heads(g, v, nH, D), f"past_key_values.{i}.value", f"present.{i}.value", False)
        x = g.op("Add", [x, linear(attend(g, heads(g, q, nH, D), k, v, bias, nH, nH, D), p + "attn.c_proj")])
        h = linear(ln(x, p + "ln_2"), p + "mlp.c_fc")
        # gelu_new: 0.5*h*(1 + tanh(sqrt(2/pi)*(h + 0.044715*h^3)))
        inner = g.op("Add", [h, g.op("Mul", [g.op("Mul", [g.op("Mul", [h, h]), h]), g.const(0.044715, np.float32)])])
        t = g.op("Tanh", [g.op("Mul", [inner, g.const(np.sqrt(2 / np.pi), np.float32)])])
        gelu = g.op("Mul", [g.op("Mul", [h, g.const(0.5, np.float32)]), g.op("Add", [t, g.const(1.0, np.float32)])])
        x = g.op("Add", [x, linear(gelu, p + "mlp.c_proj")], "resid_mlp")
    x = ln(x, "transformer.ln_f")
    head = g.op("Transpose", ["transformer.wte.weight"], "lm_head", perm=[1, 0]) if cfg["tied"] else "lm_head.weight"
    g.op("MatMul", [x, head], outputs=["logits"])


# ---------------------------------------------------------------------------------------------
# Graph I/O and model assembly
# ---------------------------------------------------------------------------------------------
def decoder_io(cfg, position_ids, kv_elem, logits_elem, combined=False):
    """Graph inputs/outputs: the optimum layout (int64 ids, past_key_values.N.key|value), or with combined
    GenAI's GPT-2 layout (int32 ids/mask/positions, past_N [2, batch, heads, past, head])."""
    ids = TensorProto.INT32 if combined else TensorProto.INT64
    ins = [value_info("input_ids", ids, ["batch_size", "sequence_length"]),
           value_info("attention_mask", ids, ["batch_size", "total_sequence_length"])]
    if position_ids:
        ins.append(value_info("position_ids", ids, ["batch_size", "sequence_length"]))
    outs = [value_info("logits", logits_elem, ["batch_size", "sequence_length", cfg["vocab"]])]
    Hkv, D = cfg["kv_heads"], cfg["head_dim"]
    for i in range(cfg["layers"]):
        if combined:
            ins.append(value_info(f"past_{i}", kv_elem, [2, "batch_size", Hkv, "past_sequence_length", D]))
            outs.append(value_info(f"present_{i}", kv_elem, [2, "batch_size", Hkv, "total_sequence_length", D]))
            continue
        for kv in ("key", "value"):
            ins.append(value_info(f"past_key_values.{i}.{kv}", kv_elem, ["batch_size", Hkv, "past_sequence_length", D]))
            outs.append(value_info(f"present.{i}.{kv}", kv_elem, ["batch_size", Hkv, "total_sequence_length", D]))
    return ins, outs


def make_model(g, ins, outs, weights, ms_domain=False):
    inits = [numpy_helper.from_array(v, k) for k, v in weights.items()] + g.inits
    graph = helper.make_graph(g.nodes, "decoder", ins, outs, initializer=inits)
    opsets = [helper.make_opsetid("", OPSET)] + ([helper.make_opsetid("com.microsoft", 1)] if ms_domain else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="ortlm gen_test_models.py")
    model.ir_version = 8
    return model


def build_llama(cfg, seed, position_ids=True, io_fp16=False, merged=False, gqa=False):
    """All Llama variants: optimum (with/without position_ids), fp16 I/O, merged (If on
    use_cache_branch) and GenAI (GroupQueryAttention)."""
    wdtype = np.float16 if io_fp16 else np.float32
    weights = llama_weights(cfg, init_rng(seed), wdtype)
    cos, sin = rope_tables(cfg, half=gqa)
    weights.update({"cos_cache": cos, "sin_cache": sin} if gqa else {"rope_cos": cos, "rope_sin": sin})
    kv_elem = TensorProto.FLOAT16 if io_fp16 else TensorProto.FLOAT
    ins, outs = decoder_io(cfg, position_ids and not gqa, kv_elem, kv_elem)
    opt = dict(position_ids=position_ids and not gqa, io_fp16=io_fp16, wdtype=wdtype, gqa=gqa)
    past_fmt = "past_key_values.%d.%s"
    g = Graph()
    if not merged:
        llama_body(g, cfg, opt, past_fmt)
        return make_model(g, ins, outs, weights, ms_domain=gqa)
    # Merged decoder: both branches read the outer inputs and weights; the no-cache branch ignores past.
    # Branch values carry a prefix so that names stay unique across the model.
    branches = {}
    for use_cache in (True, False):
        sub = Graph(prefix="with_past/" if use_cache else "no_past/")
        names = llama_body(sub, cfg, opt, past_fmt if use_cache else None)
        bouts = [value_info(n, kv_elem, None) for n in names]
        branches[use_cache] = helper.make_graph(sub.nodes, sub.prefix.rstrip("/"), [], bouts, initializer=sub.inits)
    ins.append(value_info("use_cache_branch", TensorProto.BOOL, [1]))
    g.op("If", [g.op("Squeeze", ["use_cache_branch"], "use_cache")], outputs=[o.name for o in outs],
         then_branch=branches[True], else_branch=branches[False])
    return make_model(g, ins, outs, weights)


def build_gpt2(cfg, seed, combined=False):
    weights = gpt2_weights(cfg, init_rng(seed))
    g = Graph()
    gpt2_body(g, cfg, combined)
    ins, outs = decoder_io(dict(cfg, kv_heads=cfg["heads"], head_dim=cfg["hidden"] // cfg["heads"]), True,
                           TensorProto.FLOAT, TensorProto.FLOAT, combined)
    return make_model(g, ins, outs, weights)


# ---------------------------------------------------------------------------------------------
# Folder writers
# ---------------------------------------------------------------------------------------------
def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def copy_tokenizer(src_dir, dst_dir, files=("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")):
    for name in files:
        if os.path.exists(os.path.join(src_dir, name)):
            shutil.copyfile(os.path.join(src_dir, name), os.path.join(dst_dir, name))


def save(model, path, external=False):
    """Checks then saves the model (external data: one file '<name>_data' next to it)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if external:
        data = os.path.basename(path) + "_data"
        if os.path.exists(path + "_data"):
            os.remove(path + "_data")
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data,
                        size_threshold=1024)
        onnx.checker.check_model(path, full_check=True)
    else:
        onnx.checker.check_model(model, full_check=True)
        onnx.save_model(model, path)


def llama_config(cfg, extra=None):
    c = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": cfg["hidden"],
         "intermediate_size": cfg["inter"], "num_hidden_layers": cfg["layers"],
         "num_attention_heads": cfg["heads"], "num_key_value_heads": cfg["kv_heads"],
         "head_dim": cfg["head_dim"], "vocab_size": cfg["vocab"], "max_position_embeddings": cfg["max_pos"],
         "rms_norm_eps": cfg["eps"], "rope_theta": cfg["theta"], "hidden_act": "silu",
         "bos_token_id": cfg["bos"], "eos_token_id": cfg["eos"], "tie_word_embeddings": cfg["tied"],
         "torch_dtype": "float32", "use_cache": True}
    c.update(extra or {})
    return c


def generation_config(cfg):
    return {"bos_token_id": cfg["bos"], "eos_token_id": cfg["eos"], "max_length": cfg["max_pos"],
            "do_sample": False}


def new_folder(out, name):
    d = os.path.join(out, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def write_llama_folder(out, name, cfg, seed, model_file="onnx/model.onnx", external=False, config_extra=None,
                       **variant):
    d = new_folder(out, name)
    save(build_llama(cfg, seed, **variant), os.path.join(d, model_file), external)
    write_json(os.path.join(d, "config.json"), llama_config(cfg, config_extra))
    write_json(os.path.join(d, "generation_config.json"), generation_config(cfg))
    copy_tokenizer(STORIES_DIR, d)
    return d


def gen_llama_optimum(out):
    return write_llama_folder(out, "llama-optimum", LLAMA_TEST, 1)


def gen_llama_optimum_external(out):
    return write_llama_folder(out, "llama-optimum-external", LLAMA_TEST, 1, external=True)


def gen_llama_optimum_fp16(out):
    return write_llama_folder(out, "llama-optimum-fp16", LLAMA_TEST, 2, model_file="onnx/model_fp16.onnx",
                              io_fp16=True, config_extra={"torch_dtype": "float16", "transformers.js_config": {
                                  "dtype": "fp16", "kv_cache_dtype": {"fp16": "float16"}}})


def gen_llama_no_position_ids(out):
    return write_llama_folder(out, "llama-no-position-ids", LLAMA_TEST, 3, position_ids=False)


def gen_llama_merged(out):
    return write_llama_folder(out, "llama-merged", LLAMA_TEST, 4, model_file="onnx/decoder_model_merged.onnx",
                              merged=True)


def gen_genai_gqa(out, name="genai-gqa"):
    cfg = LLAMA_TEST
    d = write_llama_folder(out, name, cfg, 5, model_file="model.onnx", gqa=True)
    os.remove(os.path.join(d, "config.json"))  # GenAI folders carry genai_config.json instead
    os.remove(os.path.join(d, "generation_config.json"))
    write_json(os.path.join(d, "genai_config.json"), {"model": {
        "bos_token_id": cfg["bos"], "eos_token_id": cfg["eos"], "pad_token_id": 0,
        "context_length": cfg["max_pos"], "vocab_size": cfg["vocab"], "type": "llama",
        "decoder": {"session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
                    "filename": "model.onnx", "head_size": cfg["head_dim"], "hidden_size": cfg["hidden"],
                    "num_attention_heads": cfg["heads"], "num_hidden_layers": cfg["layers"],
                    "num_key_value_heads": cfg["kv_heads"],
                    "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask",
                               "past_key_names": "past_key_values.%d.key",
                               "past_value_names": "past_key_values.%d.value"},
                    "outputs": {"logits": "logits", "present_key_names": "present.%d.key",
                                "present_value_names": "present.%d.value"}}},
        "search": {"do_sample": False, "max_length": cfg["max_pos"], "min_length": 0, "num_beams": 1,
                   "num_return_sequences": 1, "past_present_share_buffer": False, "repetition_penalty": 1.0,
                   "temperature": 1.0, "top_k": 1, "top_p": 1.0}})
    return d


def gen_gpt2_optimum(out):
    cfg = GPT2_TEST
    d = new_folder(out, "gpt2-optimum")
    save(build_gpt2(cfg, 6), os.path.join(d, "model.onnx"))
    write_json(os.path.join(d, "config.json"), {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_layer": cfg["layers"], "n_head": cfg["heads"],
        "n_embd": cfg["hidden"], "n_inner": cfg["inter"], "n_positions": cfg["max_pos"], "n_ctx": cfg["max_pos"],
        "vocab_size": cfg["vocab"], "activation_function": "gelu_new", "layer_norm_epsilon": cfg["eps"],
        "bos_token_id": cfg["bos"], "eos_token_id": cfg["eos"], "tie_word_embeddings": cfg["tied"], "use_cache": True})
    write_json(os.path.join(d, "generation_config.json"), generation_config(cfg))
    copy_tokenizer(GPT2_TOKENIZER_DIR, d, ("tokenizer.json", "tokenizer_config.json", "vocab.json"))
    return d


def gen_genai_gpt2_int32(out):
    cfg = GPT2_TEST
    d = new_folder(out, "genai-gpt2-int32")
    save(build_gpt2(cfg, 7, combined=True), os.path.join(d, "model.onnx"))
    D = cfg["hidden"] // cfg["heads"]
    write_json(os.path.join(d, "genai_config.json"), {"model": {
        "type": "gpt2", "pad_token_id": cfg["bos"], "bos_token_id": cfg["bos"], "eos_token_id": cfg["eos"],
        "vocab_size": cfg["vocab"], "context_length": cfg["max_pos"],
        "decoder": {"session_options": {"provider_options": []}, "filename": "model.onnx",
                    "num_attention_heads": cfg["heads"], "num_key_value_heads": cfg["heads"], "head_size": D,
                    "hidden_size": cfg["hidden"], "num_hidden_layers": cfg["layers"],
                    "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask",
                               "position_ids": "position_ids", "past_names": "past_%d"},
                    "outputs": {"logits": "logits", "present_names": "present_%d"}}},
        "search": {"do_sample": False, "max_length": cfg["max_pos"], "num_beams": 1}})
    copy_tokenizer(GPT2_TOKENIZER_DIR, d, ("tokenizer.json", "tokenizer_config.json", "vocab.json"))
    return d


def gen_bad_unknown_input(out):
    """A decoder with an extra input no runtime can know how to fill: the loader must refuse it by name."""
    d = new_folder(out, "bad-unknown-input")
    model = build_llama(LLAMA_TEST, 8)
    model.graph.input.append(value_info("token_type_hint", TensorProto.INT64, ["batch_size"]))
    save(model, os.path.join(d, "onnx", "model.onnx"))
    write_json(os.path.join(d, "config.json"), llama_config(LLAMA_TEST))
    return d


def gen_bad_nan_logits(out):
    """A decoder whose logit for token 5 is NaN at every position (a broken export): generation must
    stop with an error naming it, never emit garbage."""
    d = write_llama_folder(out, "bad-nan-logits", LLAMA_TEST, 9)
    path = os.path.join(d, "onnx", "model.onnx")
    model = onnx.load(path)
    for i, init in enumerate(model.graph.initializer):
        if init.name == "lm_head.weight":
            w = numpy_helper.to_array(init).copy()
            w[:, 5] = np.nan
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(w, init.name))
    save(model, path)
    return d


def gen_smollm2(out):
    return write_llama_folder(out, "smollm2-135m", SMOLLM2, 135, external=True,
                              config_extra={"architectures": ["LlamaForCausalLM"]})


TESTS = {
    "llama-optimum": gen_llama_optimum,
    "llama-optimum-external": gen_llama_optimum_external,
    "llama-optimum-fp16": gen_llama_optimum_fp16,
    "llama-no-position-ids": gen_llama_no_position_ids,
    "llama-merged": gen_llama_merged,
    "genai-gqa": gen_genai_gqa,
    "gpt2-optimum": gen_gpt2_optimum,
    "genai-gpt2-int32": gen_genai_gpt2_int32,
    "bad-unknown-input": gen_bad_unknown_input,
    "bad-nan-logits": gen_bad_nan_logits,
}
PRESETS = {"smollm2-135m": gen_smollm2}


def folder_size(d):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)


def main():
    import quantized_test_models  # other tools' quantized layouts, built on this file's pieces

    TESTS.update(quantized_test_models.TESTS)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder (one subfolder per model)")
    ap.add_argument("--tests", action="store_true", help="generate the small test models (default)")
    ap.add_argument("--preset", choices=sorted(PRESETS), help="generate one realistic-size benchmark model")
    ap.add_argument("--only", choices=sorted({**TESTS, **PRESETS}), help="generate one model")
    a = ap.parse_args()
    todo = {}
    if a.only:
        todo[a.only] = {**TESTS, **PRESETS}[a.only]
    if a.preset:
        todo[a.preset] = PRESETS[a.preset]
    if a.tests or not todo:
        todo.update(TESTS)
    os.makedirs(a.out, exist_ok=True)
    for name, fn in todo.items():
        d = fn(a.out)
        print(f"{name}: {d} ({folder_size(d) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
