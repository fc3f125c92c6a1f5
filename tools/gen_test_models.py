#!/usr/bin/env python3
"""Placeholder: being written (generates small random-weight decoders for the tests)."""
import argparse, os
p = argparse.ArgumentParser(); p.add_argument("--out", required=True); p.add_argument("--tests", action="store_true")
a, _ = p.parse_known_args(); os.makedirs(a.out, exist_ok=True)
