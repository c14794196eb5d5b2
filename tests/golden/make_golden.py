"""Records what Hugging Face PEFT itself does with the adapters in cases.json.

Run where torch, transformers and peft are installed, after `npm run build`:
    python tests/golden/make_golden.py
It writes tests/golden/peft-golden.json, which the tests compare peftc against
(the tests need no Python). For each case: peftc writes the PEFT config
(`peftc compile --emit peft-config`), PEFT applies it to the fixture model, and
the golden file records PEFT's print_trainable_parameters numbers and the keys
and shapes of the state dict PEFT would save. Selector cases record PEFT's
check_target_module_exists.
"""
import json
import os
import subprocess
import sys
import tempfile

import peft
import torch
import transformers
from peft import PeftConfig, get_peft_model, get_peft_model_state_dict
from peft.tuners.tuners_utils import check_target_module_exists
from transformers import AutoModelForCausalLM

from golden_files import HERE, ROOT, fixture_models

PEFTC = ["node", os.path.join(ROOT, "dist", "bin", "peftc.js")]


def peft_config(adapter, tmp):
    spec = os.path.join(tmp, "case.peft")
    with open(spec, "w") as f:
        f.write("peft 1\n" + adapter + "\n")
    out = subprocess.run(PEFTC + ["compile", spec, "--emit", "peft-config"], check=True, capture_output=True, text=True)
    folder = os.path.join(tmp, "config")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        f.write(out.stdout)
    return PeftConfig.from_pretrained(folder)


def run_case(case, models, tmp):
    config = peft_config(case["adapter"], tmp)
    # Saved configs say inference_mode (frozen); training counts come from a trainable model.
    config.inference_mode = False
    model = AutoModelForCausalLM.from_pretrained(models[case["model"]], dtype=torch.float32)
    torch.manual_seed(0)
    peft_model = get_peft_model(model, config)
    trainable, total = peft_model.get_nb_trainable_parameters()
    saved = get_peft_model_state_dict(peft_model)
    return {
        "trainable": trainable,
        "all": total,
        "saved": {key: list(value.shape) for key, value in sorted(saved.items())},
    }


def run_selector(case):
    from peft import LoraConfig

    kwargs = {"target_modules": case["target_modules"]}
    for field in ("layers_to_transform", "layers_pattern", "exclude_modules"):
        if field in case:
            kwargs[field] = case[field]
    config = LoraConfig(**kwargs)
    return bool(check_target_module_exists(config, case["key"]))


def main():
    with open(os.path.join(HERE, "cases.json")) as f:
        spec = json.load(f)
    results = {
        "versions": {"peft": peft.__version__, "transformers": transformers.__version__, "torch": torch.__version__},
        "cases": {},
        "selectors": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        models = fixture_models(tmp)
        for case in spec["cases"]:
            try:
                results["cases"][case["name"]] = run_case(case, models, tmp)
            except Exception as e:  # recorded, so that the test can say what PEFT refused
                results["cases"][case["name"]] = {"error": f"{type(e).__name__}: {e}"}
            print(case["name"], results["cases"][case["name"]].get("trainable", results["cases"][case["name"]].get("error")), file=sys.stderr)
    for case in spec["selectors"]:
        results["selectors"].append({**case, "matches": run_selector(case)})
    with open(os.path.join(HERE, "peft-golden.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
