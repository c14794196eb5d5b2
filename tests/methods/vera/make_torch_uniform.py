"""What torch's CPU generator and float32 uniform_ make, for the generic
torch_uniform init (runtime/executor/torch-random.ts) to be checked against
without torch. Run with torch installed:
    python tests/methods/vera/make_torch_uniform.py
It writes torch-uniform.json beside this file: per case the seed, bound,
draws skipped, count, the first values and the sha256 of all the float32
bytes (little-endian).
"""
import hashlib
import json
import math
import os

import torch

CASES = [
    # (seed, fan_in, skip, count): bounds as PEFT's _kaiming_init computes them.
    (0, 64, 0, 1024),
    (0, 16, 16 * 64, 1024),
    (2024, 176, 0, 8 * 176),
    (2024, 8, 8 * 176, 64 * 8),
    (2**40 + 7, 3, 0, 100_000),  # a seed past 32 bits keeps its low 32 bits
    (4294967295, 4096, 1000, 5000),  # skip past one MT19937 block of 624
    (123456789, 1, 0, 70_000),
]


def main():
    out = []
    for seed, fan, skip, count in CASES:
        bound = math.sqrt(3.0) * (math.sqrt(2) / math.sqrt(fan))
        g = torch.Generator(device="cpu").manual_seed(seed)
        if skip:
            torch.empty(skip).uniform_(0, 1, generator=g)
        values = torch.empty(count).uniform_(-bound, bound, generator=g)
        data = values.numpy().astype("<f4").tobytes()
        out.append({
            "seed": seed,
            "bound": bound,
            "skip": skip,
            "count": count,
            "first": [float(v) for v in values[:8]],
            "sha256": hashlib.sha256(data).hexdigest(),
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch-uniform.json")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "cases": out}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
