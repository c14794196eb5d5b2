"""Greedy generation by transformers + PEFT on the tiny fixture models, as golden data.

Run where torch, transformers and peft are installed, after `npm run build`:
    python tests/golden/make_generate.py
It writes tests/golden/generate.json: for each case the prompt, its token ids
as the model's tokenizer makes them (with bos where the tokenizer adds one),
and the new tokens of model.generate(do_sample=False) without and with the
PEFT-saved adapter of tests/golden/adapters/<adapter> (loaded with
PeftModel.from_pretrained), stopping at the model's eos or max_new_tokens.
Also the smallest gap between the two largest logits over the greedy steps,
so that a case whose argmax is nearly a tie can be spotted (float32 here and
on the GPU may then disagree honestly).
"""
import json
import os
import tempfile

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from golden_files import HERE, fixture_models

OUT = os.path.join(HERE, "generate.json")
MAX_NEW = 12

CASES = [
    ("llama", "lora-llama", "The quick brown fox"),
    ("qwen2", "lora-regex-qwen2", "Question: what is two plus three? Answer:"),
    ("gpt2", "lora-gpt2", "The sentiment of this review is"),
]


def greedy(model, ids):
    with torch.no_grad():
        out = model.generate(ids, do_sample=False, max_new_tokens=MAX_NEW, output_scores=True, return_dict_in_generate=True)
    new = out.sequences[0, ids.shape[1]:].tolist()
    gaps = []
    for scores in out.scores:
        top = torch.topk(scores[0], 2).values
        gaps.append((top[0] - top[1]).item())
    return new, min(gaps)


def main():
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        models = fixture_models(tmp)
        for kind, adapter, prompt in CASES:
            model_dir = models[kind]
            tokenizer = AutoTokenizer.from_pretrained(model_dir)
            ids = tokenizer(prompt, return_tensors="pt").input_ids
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
            model.generation_config.pad_token_id = model.generation_config.eos_token_id
            base, base_gap = greedy(model, ids)
            peft_model = PeftModel.from_pretrained(model, os.path.join(HERE, "adapters", adapter))
            peft_model.eval()
            adapted, adapted_gap = greedy(peft_model, ids)
            cases.append({
                "model": kind,
                "adapter": adapter,
                "prompt": prompt,
                "prompt_ids": ids[0].tolist(),
                "max_new_tokens": MAX_NEW,
                "base": base,
                "adapted": adapted,
                "min_top2_gap": {"base": round(base_gap, 6), "adapted": round(adapted_gap, 6)},
            })
            print(kind, adapter, "base", base, "adapted", adapted, "gaps", round(base_gap, 4), round(adapted_gap, 4))
    with open(OUT, "w") as f:
        json.dump({"made_by": "tests/golden/make_generate.py", "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
