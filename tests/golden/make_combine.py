"""Adapters combined by Hugging Face PEFT's add_weighted_adapter, for peftc's combine tests.

Run where torch, transformers and peft are installed, after `npm run build`:
    python tests/golden/make_combine.py [lora|ia3]   (both when not given)
Writes tests/golden/combine/:
  second/                a second r=4 LoRA adapter on the tiny llama (q_proj, k_proj), saved by PEFT
  <how>/                 the combined adapter as PEFT saves it (cat, svd, linear)
  expected.safetensors   delta.<how>.<module>: each combined adapter's ΔW (get_delta_weight, float64 → float32)
(Adapter names avoid module-path words: PEFT filters saved keys by other adapters' names as substrings.)
  ia3-second/            a second IA3 adapter on the tiny llama (k_proj, up_proj, down_proj; feed-forward up_proj, down_proj)
  ia3/                   IA3's add_weighted_adapter of ia3-llama (0.6) and ia3-second (-0.5), as PEFT saves it
The combined adapters: cat and svd (svd_rank 3) of lora-layers-llama (0.7) and lora-llama (-0.3);
linear of lora-llama (0.6) and second (0.5), which share rank 4.
"""
import os
import shutil
import sys
import tempfile

import torch
from peft import IA3Config, LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

from golden_files import HERE, drop_model_card, fixture_models

ADAPTERS = os.path.join(HERE, "adapters")
OUT = os.path.join(HERE, "combine")


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = fixture_models(tmp)["llama"]
        if which in ("all", "lora"):
            lora(tmp, model_dir)
        if which in ("all", "ia3"):
            ia3(tmp, model_dir)


def ia3(tmp, model_dir):
    for name in ["ia3-second", "ia3"]:
        shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
    torch.manual_seed(8765)
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64)
    config = IA3Config(target_modules=["k_proj", "up_proj", "down_proj"], feedforward_modules=["up_proj", "down_proj"], init_ia3_weights=False)
    second = get_peft_model(base, config)
    second.to(torch.float32).save_pretrained(os.path.join(OUT, "ia3-second"))
    drop_model_card(os.path.join(OUT, "ia3-second"))
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64)
    model = PeftModel.from_pretrained(base, os.path.join(ADAPTERS, "ia3-llama"), adapter_name="first")
    model.load_adapter(os.path.join(OUT, "ia3-second"), adapter_name="second_ia3")
    model.add_weighted_adapter(["first", "second_ia3"], [0.6, -0.5], "ia3")
    model.save_pretrained(os.path.join(tmp, "saved-ia3"), selected_adapters=["ia3"])
    shutil.copytree(os.path.join(tmp, "saved-ia3", "ia3"), os.path.join(OUT, "ia3"))
    drop_model_card(os.path.join(OUT, "ia3"))
    print("ia3 combined")


def lora(tmp, model_dir):
    for name in ["second", "cat", "svd", "linear", "expected.safetensors"]:
        path = os.path.join(OUT, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
    torch.manual_seed(4321)
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64)
    second = get_peft_model(base, LoraConfig(r=4, lora_alpha=12, target_modules=["q_proj", "k_proj"], init_lora_weights=False))
    second.to(torch.float32).save_pretrained(os.path.join(OUT, "second"))
    drop_model_card(os.path.join(OUT, "second"))

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
        drop_model_card(os.path.join(OUT, how))
    save_file(expected, os.path.join(OUT, "expected.safetensors"), metadata={"format": "pt"})
    print(len(expected), "deltas")


if __name__ == "__main__":
    main()
