"""Compares Gatehouse's GPU results with transformers (run by scripts/gpu-check on the GPU machine).

For each NAME.json the gpu tests wrote (folder, dtype, prompt, greedy ids, first-step logits), loads
the same folder with AutoModelForCausalLM in the same dtype on cuda:0 and appends two rows to rows.tsv:
the largest logit difference after the prompt, and whether 16 greedy ids match.
"""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
rows = out / "rows.tsv"
TOLERANCE = {"float16": 5e-2, "float32": 2e-3}


def row(check, figure, bound):
    with rows.open("a") as f:
        f.write(f"{check}\t{figure}\t{bound}\n")


try:
    import torch
    from transformers import AutoModelForCausalLM
except ImportError as e:
    row("transformers oracle", f"not run: {e}", "python with torch and transformers")
    sys.exit(0)

failed = False
for report in sorted(out.glob("*.json")):
    r = json.loads(report.read_text())
    dtype = torch.float16 if r["dtype"] == "float16" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(r["folder"], dtype=dtype).to("cuda:0").eval()
    ids = torch.tensor([r["prompt"]], device="cuda:0")
    with torch.no_grad():
        logits = model(ids).logits[0, -1].float().cpu()
        diff = (logits - torch.tensor(r["logits"])).abs().max().item()
        n = len(r["greedy"])
        gen = model.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False, eos_token_id=None,
                             pad_token_id=0)[0, len(r["prompt"]):].tolist()
    bound = TOLERANCE[r["dtype"]]
    same = gen == r["greedy"]
    row(f"transformers {report.stem} {r['dtype']}", f"max|dlogit| {diff:.2e}, greedy {'same' if same else 'DIFFERENT'}",
        f"<= {bound:.0e}, same")
    failed |= diff > bound or not same
sys.exit(1 if failed else 0)
