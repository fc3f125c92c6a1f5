#!/usr/bin/env python3
"""Sums up an ONNX Runtime profile of a decode loop (bench_bare_ort_loop --profile PREFIX).

    python3 bench/ort_profile_summary.py PROFILE.json [...]

The first Run() is the prompt's prefill and is left out; the others are decode steps. Kernel times
are grouped by what they do in a decoder: the weight MatMuls (lm_head apart), attention's two
MatMuls (Q.K^T, often FusedMatMul, and probabilities.V), the KV append (Concat of past and new
along the sequence axis, which copies the whole past every step), and the rest by operator type.
"Run() outside kernels" is ONNX Runtime's own time per Run (scheduling, allocation, thread pool).
"""
import collections
import json
import sys


def shapes(args, key):
    return [list(t.values())[0] for t in args.get(key) or []]


def category(op, inputs, outputs, vocab):
    if op in ("MatMul", "FusedMatMul", "Gemm", "MatMulNBits", "MatMulInteger"):
        if len(inputs) >= 2 and all(len(s) >= 3 for s in inputs[:2]):
            return "attention MatMuls (Q.K^T, P.V)"
        if outputs and outputs[0] and outputs[0][-1] == vocab:
            return "MatMul lm_head"
        return "MatMul weights"
    if op == "Concat" and len(inputs) == 2 and outputs and len(outputs[0]) == 4:
        a, b, out = inputs[0], inputs[1], outputs[0]
        if len(a) == 4 and a[-1] == out[-1] and out[2] == a[2] + b[2] and b[2] < out[2]:
            return "KV append (Concat past+new)"
    return op


def summarize(path):
    events = json.load(open(path))
    runs = sorted((e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"),
                  key=lambda e: e["ts"])
    decode = runs[1:]
    if not decode:
        sys.exit(f"{path}: needs at least two runs (a prefill and a decode step)")
    spans = [(r["ts"], r["ts"] + r["dur"]) for r in decode]
    vocab = None
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            outs = shapes(e["args"], "output_type_shape")
            if outs and outs[0] and (vocab is None or outs[0][-1] > vocab):
                vocab = outs[0][-1]  # the widest output: the logits
    totals, nodes = collections.Counter(), collections.Counter()
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        if not any(a <= e["ts"] <= b for a, b in spans):
            continue
        args = e["args"]
        c = category(args.get("op_name", "?"), shapes(args, "input_type_shape"),
                     shapes(args, "output_type_shape"), vocab)
        totals[c] += e["dur"]
        nodes[c] += 1
    n = len(decode)
    run_us = sum(r["dur"] for r in decode) / n
    kernel_us = sum(totals.values()) / n
    print(f"{path}: {n} decode steps, Run() {run_us / 1e3:.2f} ms/step, kernels {kernel_us / 1e3:.2f} ms/step")
    print(f"  {'what':<34} {'ms/step':>9} {'of Run':>7} {'nodes':>6}")
    for c, us in totals.most_common():
        if us / n < 0.005 * run_us:
            continue
        print(f"  {c:<34} {us / n / 1e3:9.2f} {100 * us / n / run_us:6.1f}% {nodes[c] // n:6d}")
    rest = sum(us for us in totals.values() if us / n < 0.005 * run_us) / n
    print(f"  {'(other operators, each < 0.5%)':<34} {rest / 1e3:9.2f} {100 * rest / run_us:6.1f}%")
    print(f"  {'Run() outside kernels':<34} {(run_us - kernel_us) / 1e3:9.2f} {100 * (run_us - kernel_us) / run_us:6.1f}%")


for p in sys.argv[1:]:
    summarize(p)
