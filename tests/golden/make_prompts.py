"""Prompt-method adapters saved by Hugging Face PEFT itself, with what PEFT computes from them.

Run where torch, transformers and peft are installed, after `npm run build`:
    python tests/golden/make_prompts.py [CASE ...]   (every case when none is named)
For each case it writes tests/golden/prompts/<case>/: the adapter exactly as
PeftModel.save_pretrained writes it (untrained: the saved prompt embeddings are
PEFT's initialisation, or for P-tuning its prompt encoder's output), and
expected.safetensors with
  input_ids            the token batch used below (I64, 2 x 8)
  logits.base          the base model's logits on it (float64 forward)
  logits.adapter       the logits of the real tokens with the adapter active (float64;
                       PEFT's output also has the virtual tokens' rows, dropped here)
  loss.base            mean next-token cross-entropy of the base model
  loss.adapter         PEFT's loss with labels = input_ids: PEFT prepends -100 labels
                       for the virtual tokens, so the last virtual token predicts the
                       first real token
"""
import os
import shutil
import tempfile

import torch
from peft import PromptEncoderConfig, PromptTuningConfig, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

from golden_files import HERE, chosen_cases, drop_model_card, fixture_models

OUT = os.path.join(HERE, "prompts")

CASES = [
    ("prompt-tuning-llama", "llama", lambda d: PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4)),
    ("prompt-tuning-text-qwen2", "qwen2", lambda d: PromptTuningConfig(
        task_type="CAUSAL_LM", num_virtual_tokens=6, prompt_tuning_init="TEXT",
        prompt_tuning_init_text="the cat", tokenizer_name_or_path=d)),
    ("prompt-tuning-text-llama", "llama", lambda d: PromptTuningConfig(
        task_type="CAUSAL_LM", num_virtual_tokens=3, prompt_tuning_init="TEXT",
        prompt_tuning_init_text="hello world and more words", tokenizer_name_or_path=d)),
    ("prompt-tuning-vocab-gpt2", "gpt2", lambda d: PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=5, prompt_tuning_init="SAMPLE_VOCAB")),
    ("p-tuning-mlp-llama", "llama", lambda d: PromptEncoderConfig(task_type="CAUSAL_LM", num_virtual_tokens=4, encoder_hidden_size=16)),
    ("p-tuning-lstm-gpt2", "gpt2", lambda d: PromptEncoderConfig(task_type="CAUSAL_LM", num_virtual_tokens=3, encoder_hidden_size=8, encoder_reparameterization_type="LSTM")),
]


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
                base = model(ids, labels=ids)
            config = make(model_dir)
            peft_model = get_peft_model(model, config)
            peft_model.eval()
            n = config.num_virtual_tokens
            with torch.no_grad():
                adapted = peft_model(input_ids=ids, labels=ids)
            target = os.path.join(OUT, name)
            peft_model.to(torch.float32).save_pretrained(target)
            drop_model_card(target)
            expected = {
                "input_ids": ids.to(torch.int64),
                "logits.base": base.logits.to(torch.float32).contiguous(),
                "logits.adapter": adapted.logits[:, n:].to(torch.float32).contiguous(),
                "loss.base": torch.tensor([base.loss.item()], dtype=torch.float64),
                "loss.adapter": torch.tensor([adapted.loss.item()], dtype=torch.float64),
            }
            save_file(expected, os.path.join(target, "expected.safetensors"), metadata={"format": "pt"})
            print(name, config.peft_type, "loss", base.loss.item(), "->", adapted.loss.item())


if __name__ == "__main__":
    main()
