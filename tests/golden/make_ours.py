"""Adapters trained by peftc, loaded by Hugging Face PEFT: the proof that our files load where PEFT expects them.

Run where torch, transformers and peft are installed, after `npm run build`:
    python tests/golden/make_ours.py [CASE ...]     (only those cases, keeping the others)
For each case it trains an adapter with `peftc train` (a few steps on the colour task),
copies the adapter directory to tests/golden/ours/<case>/, loads it with
PeftModel.from_pretrained, checks that every saved tensor landed in its PEFT parameter
(no key unused, no adapter parameter left unloaded), and writes expected.safetensors with
  input_ids        a token batch (I64, 2 x 8)
  logits.adapter   transformers + PEFT's logits with the adapter (float64 forward)
tests/peft-config/ours-in-peft.test.ts checks peftc's own forward against them.
"""
import json
import os
import shutil
import subprocess
import tempfile

import torch
from peft import PeftModel
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

from golden_files import HERE, ROOT, chosen_cases, fixture_models

OUT = os.path.join(HERE, "ours")
PEFTC = os.path.join(ROOT, "dist", "bin", "peftc.js")

CASES = [
    ("lora-llama", "llama", 'adapter chat: lora { r = 4  alpha = 8  dropout = 0.1  target "q_proj", "v_proj", "layers.[2..3].mlp.down_proj" { r = 8  alpha = 4 } }'),
    ("dora-rslora-gpt2", "gpt2", 'adapter chat: lora { r = 4  alpha = 8  use_dora = true  use_rslora = true  target "c_attn", "mlp.c_fc" }'),
    ("lora-qwen2-lm-head", "qwen2", 'adapter chat: lora { r = 2  target all_linear, "lm_head" }'),
    ("lora-embed-llama", "llama", 'adapter chat: lora { r = 4  alpha = 8  target "embed_tokens", "q_proj" }'),
    ("lora-embed-gpt2", "gpt2", 'adapter chat: lora { r = 2  alpha = 4  target "wte", "wpe", "c_attn" }'),
    # Prompt tuning: PEFT's logits keep the virtual tokens' rows; expected.safetensors keeps the real tokens' only.
    ("prompt-tuning-text-llama", "llama", 'adapter chat: prompt_tuning { virtual_tokens = 5  init = text("The code of") }'),
    ("prompt-tuning-gpt2", "gpt2", 'adapter chat: prompt_tuning { virtual_tokens = 3 }'),
]


def main():
    chosen = chosen_cases([name for name, _, _ in CASES], OUT)
    with tempfile.TemporaryDirectory() as tmp:
        models = fixture_models(tmp)
        for name, kind, adapter in CASES:
            if name not in chosen:
                continue
            shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
            model_dir = models[kind]
            data = os.path.join(tmp, "data", "completion.jsonl")
            spec = os.path.join(tmp, f"{name}.peft")
            with open(spec, "w") as f:
                f.write(f'peft 1\nmodel {kind} {{ path = "{model_dir}" }}\n{adapter}\n'
                        f'train chat {{ data = "{data}" {{ format = completion }}  seq_len = 32  batch = 4  steps = 15  optimizer = adamw {{ lr = 5e-3 }} }}\n')
            run = os.path.join(tmp, f"run-{name}")
            subprocess.run(["node", PEFTC, "train", spec, "--out", run], check=True, capture_output=True)
            target = os.path.join(OUT, name)
            shutil.copytree(os.path.join(run, "adapter"), target)

            base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64)
            model = PeftModel.from_pretrained(base, target)
            model.eval()
            saved = load_file(os.path.join(target, "adapter_model.safetensors"))
            params = dict(model.named_parameters())
            used = 0
            for key, value in saved.items():
                # PEFT's parameter names carry the adapter name ("default") before .weight, or at the end.
                stem = key[: -len(".weight")] if key.endswith(".weight") else key
                candidates = [f"{stem}.default.weight", f"{stem}.default"]
                if key == "prompt_embeddings":
                    candidates = ["prompt_encoder.default.embedding.weight"]
                match = [c for c in candidates if c in params]
                assert match, f"{key}: no PEFT parameter takes it"
                assert torch.equal(params[match[0]].detach().to(torch.float32), value), f"{key}: PEFT did not load our values"
                used += 1
            adapter_params = [n for n in params if ".default" in n or n.startswith("prompt_encoder.default")]
            assert used == len(adapter_params), f"{len(adapter_params) - used} adapter parameters were not in our file"
            ids = torch.randint(1, base.config.vocab_size, (2, 8), generator=torch.Generator().manual_seed(7))
            with torch.no_grad():
                logits = model(ids).logits
            logits = logits[:, logits.shape[1] - ids.shape[1]:]
            save_file({"input_ids": ids, "logits.adapter": logits.to(torch.float32).contiguous()},
                      os.path.join(target, "expected.safetensors"), metadata={"format": "pt"})
            with open(os.path.join(target, "adapter_config.json")) as f:
                print(name, json.load(f)["peft_type"], used, "tensors loaded by PEFT")


if __name__ == "__main__":
    main()
