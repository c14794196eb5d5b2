"""What the golden scripts share: the fixture models, the cases named on the command line,
and an adapter folder as PEFT saves it, less its model card."""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def fixture_models(tmp):
    """Writes the tiny fixture models (peftc's own, `npm run build` first) into tmp: their directories by kind."""
    subprocess.run(["node", os.path.join(ROOT, "dist", "tests", "fixtures", "make-models.js"), tmp], check=True, capture_output=True)
    return {kind: os.path.join(tmp, f"tiny-{kind}") for kind in ("llama", "qwen2", "gpt2")}


def chosen_cases(names, out):
    """The cases named on the command line (every one when none is); remakes `out` from scratch when all are made."""
    only = set(sys.argv[1:])
    unknown = only - set(names)
    if unknown:
        sys.exit(f"no such case: {', '.join(sorted(unknown))}")
    if not only:
        shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    return [n for n in names if not only or n in only]


def drop_model_card(folder):
    """PEFT's save_pretrained writes a README.md model-card template beside the adapter: not data."""
    readme = os.path.join(folder, "README.md")
    if os.path.exists(readme):
        os.remove(readme)
