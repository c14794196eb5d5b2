"""Adapters saved by Hugging Face PEFT itself, with what PEFT computes from them.

Run where torch, transformers and peft are installed, after `npm run build`:
    python tests/golden/make_adapters.py [CASE ...]   (every case when none is named)
For each case it writes tests/golden/adapters/<case>/: the adapter exactly as
PeftModel.save_pretrained writes it, and expected.safetensors with
  input_ids            the token batch used below (I64, 2 x 8)
  logits.base          the base model's logits on it (float64 forward)
  logits.adapter       the logits with the adapter active (float64 forward)
  merged.<module>      each weight (or bias) merge_and_unload changed, as it left it
  loss.base / loss.adapter  mean next-token cross-entropy over the batch
The adapters start from init_*=False (random), so that they change the output.
"""
import json
import os
import shutil
import tempfile

import torch
from peft import IA3Config, LoHaConfig, LoKrConfig, LoraConfig, VeraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

from golden_files import HERE, chosen_cases, drop_model_card, fixture_models

OUT = os.path.join(HERE, "adapters")

CASES = [
    ("lora-llama", "llama", lambda: LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)),
    ("lora-dora-rslora-patterns-llama", "llama", lambda: LoraConfig(
        r=4, lora_alpha=8, use_dora=True, use_rslora=True, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        rank_pattern={"k_proj": 2}, alpha_pattern={"o_proj": 16}, init_lora_weights=False)),
    ("lora-gpt2", "gpt2", lambda: LoraConfig(r=4, lora_alpha=16, target_modules=["c_attn", "c_fc"], fan_in_fan_out=True, init_lora_weights=False)),
    ("lora-regex-qwen2", "qwen2", lambda: LoraConfig(r=4, target_modules=r".*\.(q|v)_proj", exclude_modules=r".*layers\.0\..*", init_lora_weights=False)),
    ("lora-layers-llama", "llama", lambda: LoraConfig(r=2, target_modules=["down_proj"], layers_to_transform=[1, 3], layers_pattern="layers", init_lora_weights=False)),
    # LoRA on embeddings: llama's embed_tokens beside q_proj; GPT-2's wte (tied to lm_head, which keeps the base table) and wpe.
    ("lora-embed-llama", "llama", lambda: LoraConfig(r=4, lora_alpha=8, target_modules=["embed_tokens", "q_proj"], init_lora_weights=False)),
    ("lora-embed-gpt2", "gpt2", lambda: LoraConfig(r=4, lora_alpha=16, target_modules=["wte", "wpe", "c_attn"], fan_in_fan_out=True, init_lora_weights=False)),
    ("loha-llama", "llama", lambda: LoHaConfig(r=4, alpha=8, target_modules=["q_proj", "up_proj"], init_weights=False)),
    ("lokr-llama", "llama", lambda: LoKrConfig(r=4, alpha=8, target_modules=["q_proj", "down_proj"], init_weights=False)),
    ("lokr-both-llama", "llama", lambda: LoKrConfig(r=2, alpha=4, decompose_both=True, target_modules=["q_proj", "gate_proj"], init_weights=False)),
    ("ia3-llama", "llama", lambda: IA3Config(target_modules=["k_proj", "v_proj", "down_proj"], feedforward_modules=["down_proj"], init_ia3_weights=False)),
    # Conv1D (fan_in_fan_out) with biases: c_attn and c_fc scale their output and bias, mlp.c_proj its input.
    ("ia3-gpt2", "gpt2", lambda: IA3Config(target_modules=["c_attn", "c_fc", "mlp.c_proj"], feedforward_modules=["mlp.c_proj"], fan_in_fan_out=True, init_ia3_weights=False)),
    ("vera-llama", "llama", lambda: VeraConfig(r=16, target_modules=["q_proj", "v_proj"], init_weights=False)),
    # Conv1D layers of three shapes: each uses a different corner of the shared projections.
    ("vera-gpt2", "gpt2", lambda: VeraConfig(r=8, target_modules=["c_attn", "c_fc", "mlp.c_proj"], fan_in_fan_out=True, init_weights=False)),
    # Projections not saved: a loader must regenerate them from the key as torch does.
    ("vera-noproj-llama", "llama", lambda: VeraConfig(r=8, target_modules=["q_proj", "down_proj"], save_projection=False, projection_prng_key=2024, init_weights=False)),
]


def loss_of(logits, ids):
    return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1)).item()


def main():
    chosen = chosen_cases([name for name, _, _ in CASES], OUT)
    with tempfile.TemporaryDirectory() as tmp:
        models = fixture_models(tmp)
        for name, kind, make in CASES:
            if name not in chosen:
                continue
            shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
            model_dir = models[kind]
            torch.manual_seed(1234)
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64)
            vocab = model.config.vocab_size
            ids = torch.randint(1, vocab, (2, 8), generator=torch.Generator().manual_seed(99))
            with torch.no_grad():
                base = model(ids).logits
            peft_model = get_peft_model(model, make())
            peft_model.eval()
            with torch.no_grad():
                adapted = peft_model(ids).logits
            target = os.path.join(OUT, name)
            # Saved in float32, as training in float32 saves it.
            peft_model.to(torch.float32).save_pretrained(target)
            drop_model_card(target)
            peft_model.to(torch.float64)
            merged_model = peft_model.merge_and_unload()
            adapted_names = set()
            with open(os.path.join(target, "adapter_config.json")) as f:
                config = json.load(f)
            state = merged_model.state_dict()
            expected = {
                "input_ids": ids.to(torch.int64),
                "logits.base": base.to(torch.float32).contiguous(),
                "logits.adapter": adapted.to(torch.float32).contiguous(),
                "loss.base": torch.tensor([loss_of(base, ids)], dtype=torch.float64),
                "loss.adapter": torch.tensor([loss_of(adapted, ids)], dtype=torch.float64),
            }
            original = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64).state_dict()
            for key, value in state.items():
                # Biases too: IA3 scales the bias of the layers whose output it scales.
                if key.endswith((".weight", ".bias")) and key in original and not torch.equal(original[key], value):
                    expected[f"merged.{key}"] = value.to(torch.float32).contiguous()
                    adapted_names.add(key)
            save_file(expected, os.path.join(target, "expected.safetensors"), metadata={"format": "pt"})
            print(name, config["peft_type"], len(adapted_names), "merged weights")


if __name__ == "__main__":
    main()
