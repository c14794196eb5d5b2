"""Writes each method's peft-defaults.json from Hugging Face PEFT itself.

Run where peft is installed:  python tests/golden/make_defaults.py
Each file is what XConfig().save_pretrained(dir) writes (keys sorted), with
peft_version as this PEFT reports it. AdaLoRA's total_step, required by PEFT,
is written as null: a spec must give it.
"""
import json
import os

import peft
from peft import (AdaLoraConfig, AdaptionPromptConfig, BOFTConfig, IA3Config, LNTuningConfig, LoHaConfig, LoKrConfig,
                  LoraConfig, OFTConfig, PrefixTuningConfig, PromptEncoderConfig, PromptTuningConfig, VeraConfig)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METHODS = {
    "lora": LoraConfig, "loha": LoHaConfig, "lokr": LoKrConfig, "oft": OFTConfig, "boft": BOFTConfig,
    "adalora": lambda: AdaLoraConfig(total_step=1000), "ia3": IA3Config, "vera": VeraConfig,
    "prompt_tuning": PromptTuningConfig, "prefix_tuning": PrefixTuningConfig, "p_tuning": PromptEncoderConfig,
    "llama_adapter": AdaptionPromptConfig, "ln_tuning": LNTuningConfig,
}

for folder, make in METHODS.items():
    config = make().to_dict()
    for key, value in list(config.items()):
        if isinstance(value, set):
            config[key] = sorted(value)
    if folder == "adalora":
        config["total_step"] = None
    config.pop("runtime_config", None)
    path = os.path.join(ROOT, "compiler", "methods", folder, "peft-defaults.json")
    with open(path, "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
    print(folder, len(config), "fields, peft", peft.__version__)
