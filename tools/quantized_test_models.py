"""Quantized test models as other tools write them, for ortlm's loader tests (gen_test_models.py runs
these with the others):

- genai-int4: onnxruntime-genai's int4 layout. model.onnx + model.onnx.data, genai_config.json, one
  packed QKV MatMulNBits per layer feeding GroupQueryAttention (its key/value inputs empty), MatMulNBits
  symmetric (no zero points), block 32, accuracy_level 4, the LM head quantized too.
- onnx-community-q4: transformers.js's q4 layout. onnx/model_q4.onnx in the optimum layout, every MatMul
  with a constant weight (LM head included) a symmetric MatMulNBits without an accuracy_level attribute,
  the embedding a GatherBlockQuantized with zero points.
- llama-q4-int8: llama-optimum's weights as asymmetric MatMulNBits with accuracy_level 4 (int8 activations),
  the LM head float32.

The packing here is written from ONNX Runtime's ContribOperators.md, apart from ortlm's own (src/quant):
4-bit values two per byte, the first in the low nibble; MatMulNBits B [N, K/block, block/2], scales
[N, K/block], zero points [N, ceil(K/block / 2)]; GatherBlockQuantized data [rows, cols/2], scales and zero
points [rows, cols/block] (zero points two per byte)."""
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper

import gen_test_models as base

MS = "com.microsoft"


def pack4(q):
    """uint8 values 0..15 along the last axis -> two per byte, the first in the low nibble."""
    q = q.astype(np.uint8)
    if q.shape[-1] % 2:
        q = np.concatenate([q, np.zeros(q.shape[:-1] + (1,), np.uint8)], axis=-1)
    return (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)


def quantize_rows(w, block, symmetric):
    """Rows of w [R, C] in blocks of `block` along C -> (q [R, C/block, block], scales [R, C/block],
    zero points [R, C/block] or None). Symmetric: zero point 8, scale = max|w| / 7; asymmetric: the
    block's [min, max] (widened to 0) over 0..15."""
    R, C = w.shape
    nb = -(-C // block)
    wb = np.zeros((R, nb * block), np.float32)
    wb[:, :C] = w
    wb = wb.reshape(R, nb, block)
    if symmetric:
        scale = np.abs(wb).max(-1) / 7.0
        scale[scale == 0] = 1.0
        q = np.clip(np.round(wb / scale[..., None]) + 8, 0, 15)
        return q.astype(np.uint8), scale.astype(np.float32), None
    lo, hi = np.minimum(wb.min(-1), 0), np.maximum(wb.max(-1), 0)
    scale = (hi - lo) / 15.0
    scale[scale == 0] = 1.0
    zp = np.clip(np.round(-lo / scale), 0, 15)
    q = np.clip(np.round(wb / scale[..., None]) + zp[..., None], 0, 15)
    return q.astype(np.uint8), scale.astype(np.float32), zp.astype(np.uint8)


class Rewriter:
    def __init__(self, model):
        self.model, self.graph = model, model.graph
        self.inits = {i.name: i for i in self.graph.initializer}
        self.new_inits = []

    def weight(self, name):
        return numpy_helper.to_array(self.inits[name])

    def add(self, name, array):
        self.new_inits.append(numpy_helper.from_array(array, name))
        return name

    def matmul_nbits(self, x, w_kn, out, name, block, symmetric, accuracy_level):
        """MatMulNBits computing x @ w_kn ([K, N])."""
        K, N = w_kn.shape
        q, scale, zp = quantize_rows(np.ascontiguousarray(w_kn.T), block, symmetric)
        inputs = [x, self.add(name + "_Q4", pack4(q)), self.add(name + "_scales", scale)]
        if zp is not None:
            inputs.append(self.add(name + "_zero_points", pack4(zp)))
        attrs = dict(K=K, N=N, bits=4, block_size=block)
        if accuracy_level is not None:
            attrs["accuracy_level"] = accuracy_level
        return helper.make_node("MatMulNBits", inputs, [out], name=name + "/MatMulNBits", domain=MS, **attrs)

    def finish(self):
        """Drops the initializers nothing reads any more and adds the new ones."""
        used = {i for n in self.graph.node for i in n.input}
        kept = [i for i in self.graph.initializer if i.name in used]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept + [i for i in self.new_inits if i.name in used])
        if not any(o.domain == MS for o in self.model.opset_import):
            self.model.opset_import.append(helper.make_opsetid(MS, 1))
        return self.model


def quantize_matmuls(model, block, symmetric, accuracy_level, pack_qkv=False, keep=()):
    """Every MatMul reading a constant weight (but those in `keep`) becomes a MatMulNBits. With pack_qkv, the three
    projections feeding each GroupQueryAttention become one (GQA's packed QKV input)."""
    r = Rewriter(model)
    producers = {o: n for n in model.graph.node for o in n.output}
    packed = {}  # GQA node name -> the packed node, placed where the q projection was
    dropped = set()
    if pack_qkv:
        for n in model.graph.node:
            if n.op_type != "GroupQueryAttention":
                continue
            mms = [producers[v] for v in n.input[:3]]
            w = np.concatenate([r.weight(m.input[1]) for m in mms], axis=1)
            qkv = n.name + "/qkv_proj"
            packed[mms[0].name] = r.matmul_nbits(mms[0].input[0], w, qkv + "_out", qkv, block, symmetric,
                                                 accuracy_level)
            dropped.update(m.name for m in mms[1:])
            n.input[0], n.input[1], n.input[2] = qkv + "_out", "", ""
    nodes = []
    for n in model.graph.node:
        if n.name in packed:
            nodes.append(packed[n.name])
        elif n.name in dropped:
            continue
        elif n.op_type == "MatMul" and n.input[1] in r.inits and n.input[1] not in keep:
            nodes.append(r.matmul_nbits(n.input[0], r.weight(n.input[1]), n.output[0], n.input[1], block,
                                        symmetric, accuracy_level))
        else:
            nodes.append(n)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return r.finish()


def quantize_embedding(model, block):
    """The token-embedding Gather becomes a GatherBlockQuantized (asymmetric, with zero points)."""
    r = Rewriter(model)
    for i, n in enumerate(model.graph.node):
        if n.op_type == "Gather" and n.input[0] == "model.embed_tokens.weight":
            q, scale, zp = quantize_rows(r.weight(n.input[0]), block, symmetric=False)
            name = n.input[0]
            inputs = [r.add(name + "_Q4", pack4(q.reshape(q.shape[0], -1))), n.input[1],
                      r.add(name + "_scales", scale), r.add(name + "_zero_points", pack4(zp))]
            model.graph.node[i].CopyFrom(helper.make_node(
                "GatherBlockQuantized", inputs, list(n.output), name=n.name, domain=MS, gather_axis=0,
                quantize_axis=1, block_size=block, bits=4))
    return r.finish()


def gen_genai_int4(out):
    d = base.gen_genai_gqa(out, "genai-int4")
    path = os.path.join(d, "model.onnx")
    model = quantize_matmuls(onnx.load(path), 32, symmetric=True, accuracy_level=4, pack_qkv=True)
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.onnx.data", size_threshold=1024)
    onnx.checker.check_model(path, full_check=True)
    return d


def gen_onnx_community_q4(out):
    cfg = base.LLAMA_TEST
    d = base.new_folder(out, "onnx-community-q4")
    model = quantize_matmuls(base.build_llama(cfg, 6), 32, symmetric=True, accuracy_level=None)
    base.save(quantize_embedding(model, 32), os.path.join(d, "onnx", "model_q4.onnx"))
    base.write_json(os.path.join(d, "config.json"), base.llama_config(cfg, {"transformers.js_config": {
        "dtype": "q4", "use_external_data_format": False}}))
    base.write_json(os.path.join(d, "generation_config.json"), base.generation_config(cfg))
    base.copy_tokenizer(base.STORIES_DIR, d)
    return d


def gen_llama_q4_int8(out):
    """llama-optimum's weights as MatMulNBits computing with int8 activations (accuracy_level 4); the LM
    head stays float32 (the paged rewrite reads it as a MatMul)."""
    cfg = base.LLAMA_TEST
    d = base.new_folder(out, "llama-q4-int8")
    model = quantize_matmuls(base.build_llama(cfg, 1), 32, symmetric=False, accuracy_level=4,
                             keep=("lm_head.weight",))
    base.save(model, os.path.join(d, "onnx", "model_q4.onnx"))
    base.write_json(os.path.join(d, "config.json"), base.llama_config(cfg))
    base.copy_tokenizer(base.STORIES_DIR, d)
    return d


TESTS = {"genai-int4": gen_genai_int4, "onnx-community-q4": gen_onnx_community_q4,
         "llama-q4-int8": gen_llama_q4_int8}
