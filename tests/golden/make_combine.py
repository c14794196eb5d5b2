"""Adapters combined by Hugging Face PEFT's add_weighted_adapter, for peftc's combine tests.

Run where torch, transformers and peft are installed, after `npm run build`:
    python tests/golden/make_combine.py
Writes tests/golden/combine/:
  second/                a second r=4 LoRA adapter on the tiny llama (q_proj, k_proj), saved by PEFT
  <how>/                 the combined adapter as PEFT saves it (cat, svd, linear)
  expected.safetensors   delta.<how>.<module>: each combined adapter's ΔW (get_delta_weight, float64 → float32)
(Adapter names avoid module-path words: PEFT filters saved keys by other adapters' names as substrings.)
The combined adapters: cat and svd (svd_rank 3) of lora-layers-llama (0.7) and lora-llama (-0.3);
linear of lora-llama (0.6) and second (0.5), which share rank 4.
"""
import os
import shutil
import subprocess
import tempfile

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ADAPTERS = os.path.join(HERE, "adapters")
OUT = os.path.join(HERE, "combine")


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["node", os.path.join(ROOT, "dist", "tests", "fixtures", "make-models.js"), tmp], check=True, capture_output=True)
        model_dir = os.path.join(tmp, "tiny-llama")
        torch.manual_seed(4321)
        base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64)
        second = get_peft_model(base, LoraConfig(r=4, lora_alpha=12, target_modules=["q_proj", "k_proj"], init_lora_weights=False))
        second.to(torch.float32).save_pretrained(os.path.join(OUT, "second"))
        os.remove(os.path.join(OUT, "second", "README.md"))

        base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64)
        model = PeftModel.from_pretrained(base, os.path.join(ADAPTERS, "lora-layers-llama"), adapter_name="first")
        model.load_adapter(os.path.join(ADAPTERS, "lora-llama"), adapter_name="plain_lora")
        model.load_adapter(os.path.join(OUT, "second"), adapter_name="second_lora")
        model.to(torch.float64)
        model.add_weighted_adapter(["first", "plain_lora"], [0.7, -0.3], "cat", combination_type="cat")
        model.add_weighted_adapter(["first", "plain_lora"], [0.7, -0.3], "svd", combination_type="svd", svd_rank=3)
        model.add_weighted_adapter(["plain_lora", "second_lora"], [0.6, 0.5], "linear", combination_type="linear")
        expected = {}
        for how in ["cat", "svd", "linear"]:
            for name, module in model.named_modules():
                if hasattr(module, "lora_A") and how in module.lora_A:
                    path = name.replace("base_model.model.", "", 1)
                    expected[f"delta.{how}.{path}"] = module.get_delta_weight(how).to(torch.float32).contiguous()
            model.save_pretrained(os.path.join(tmp, "saved"), selected_adapters=[how])
            shutil.copytree(os.path.join(tmp, "saved", how), os.path.join(OUT, how))
            readme = os.path.join(OUT, how, "README.md")
            if os.path.exists(readme):
                os.remove(readme)
        save_file(expected, os.path.join(OUT, "expected.safetensors"), metadata={"format": "pt"})
        print(len(expected), "deltas")


if __name__ == "__main__":
    main()
