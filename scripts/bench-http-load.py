#!/usr/bin/env python3
"""The HTTP side of scripts/bench-vs-llamacpp: the same greedy requests, built from the same random
token ids, sent to `gatehouse serve` (POST /v1/completions, the prompt as the tokens' texts, which the
test models' whitespace tokenizer maps back to exactly those ids) and to llama-server (POST /completion,
the ids themselves, with the BOS that Gatehouse's tokenizer prepends). Standard library only.

  bench-http-load.py load    KIND URL MODEL_DIR CLIENTS [--requests N] [--prompt P] [--tokens T] [--seed S]
      CLIENTS clients, each sending streamed requests back to back until N are done (default 3
      per client), each generating T/2 to 3T/2 tokens (T on average, default 64); request i's
      prompt is drawn from seed S + i (default 1000): give each load its own range of seeds, or
      its prompts are found in the prefix cache of an earlier load's (a first token without the
      prompt's prefill, where the time to first token is the point); prints one JSON
      line: completion tokens, seconds, aggregate tokens/s, time-to-first-token p50 (ms) of all
      requests and of the later ones (each client's second and following: they arrive while the
      others decode, not all at once), errors. KIND is gatehouse or llamacpp.
  bench-http-load.py compare GATEHOUSE_URL LLAMACPP_URL MODEL_DIR [--prompts K] [--prompt P] [--tokens T]
      greedy, 5 alternatives per token from both: prints whether the generated ids agree and how far
      apart the log-probabilities of the chosen and the top alternative tokens are.
"""
import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse


class Vocabulary:
    """The test model's tokenizer.json: id <-> text, and the ids its post-processor puts first."""

    def __init__(self, model_dir):
        tok = json.loads((Path(model_dir) / "tokenizer.json").read_text())
        self.text_of = {i: t for t, i in tok["model"]["vocab"].items()}
        special = {a["id"] for a in tok.get("added_tokens", []) if a.get("special")}
        for a in tok.get("added_tokens", []):
            self.text_of[a["id"]] = a["content"]
        self.id_of = {t: i for i, t in self.text_of.items()}
        self.regular = sorted(i for i in self.text_of if i not in special)
        self.prefix = []
        post = tok.get("post_processor") or {}
        if post.get("type") == "TemplateProcessing":
            for piece in post["single"]:
                if "Sequence" in piece:
                    break
                self.prefix += post["special_tokens"][piece["SpecialToken"]["id"]]["ids"]

    def prompt(self, seed, length):
        """(text for Gatehouse, ids for llama.cpp) of one random prompt."""
        ids = random.Random(seed).choices(self.regular, k=length)
        return " ".join(self.text_of[i] for i in ids), self.prefix + ids


def request_body(kind, model, vocab, seed, prompt_len, tokens, top=0):
    text, ids = vocab.prompt(seed, prompt_len)
    if kind == "gatehouse":
        body = {"model": model, "prompt": text, "max_tokens": tokens, "temperature": 0}
        if top:
            body["logprobs"] = top
        return "/v1/completions", body
    body = {"prompt": ids, "n_predict": tokens, "temperature": 0}
    if top:
        body["n_probs"] = top
    return "/completion", body


def stream(conn, path, body):
    """Sends one streamed request; returns (seconds to the first token, completion tokens)."""
    body = dict(body, stream=True)
    if path.startswith("/v1/"):
        body["stream_options"] = {"include_usage": True}
    start = time.perf_counter()
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:300]!r}")
    first = None
    tokens = 0
    while True:
        line = response.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            break
        event = json.loads(data)
        if "choices" in event:  # Gatehouse (OpenAI): text deltas, then a usage event
            if first is None and any(c.get("text") for c in event["choices"]):
                first = time.perf_counter() - start
            if event.get("usage"):
                tokens = event["usage"]["completion_tokens"]
        else:  # llama-server: one event per token, the last one with stop and tokens_predicted
            if first is None and event.get("content"):
                first = time.perf_counter() - start
            if event.get("stop"):
                tokens = event.get("tokens_predicted", 0)
                break
    response.read()
    return first, tokens


def p50_ms(seconds):
    return round(1000 * statistics.median(seconds)) if seconds else None


def load(args):
    vocab = Vocabulary(args.model_dir)
    model = Path(args.model_dir).name
    url = urlparse(args.url)
    total = args.requests or 3 * args.clients
    counter = iter(range(total))
    lock = threading.Lock()
    ttfts, later_ttfts, counts, errors = [], [], [], []

    def client():
        first_request = True
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            # lengths from tokens/2 to 3*tokens/2 (the same per request for both engines), so the clients
            # drift apart and later requests arrive while the others decode, as real traffic does
            max_tokens = random.Random(i).randint(args.tokens // 2, args.tokens * 3 // 2)
            path, body = request_body(args.kind, model, vocab, args.seed + i, args.prompt, max_tokens)
            # a connection per request: llama-server's HTTP library closes idle kept-alive ones after
            # 5 s, and connecting costs nothing next to a generation
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
            try:
                first, tokens = stream(conn, path, body)
                with lock:
                    if first is not None:
                        ttfts.append(first)
                        if not first_request:
                            later_ttfts.append(first)
                    counts.append(tokens)
            except Exception as e:
                with lock:
                    errors.append(str(e))
            finally:
                conn.close()
                first_request = False

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    print(json.dumps({"kind": args.kind, "clients": args.clients, "requests": total, "completion_tokens": sum(counts),
                      "seconds": round(seconds, 2), "tokens_per_second": round(sum(counts) / seconds, 1),
                      "ttft_p50_ms": p50_ms(ttfts), "later_ttft_p50_ms": p50_ms(later_ttfts),
                      "errors": len(errors), "first_error": errors[0] if errors else None}))


def post(url, path, body):
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"compare: {url}{path} answered HTTP {response.status}: {data[:300]!r}")
    return json.loads(data)


def compare(args):
    """Per prompt: the generated ids of both engines, and per position where they still agree the
    largest difference between their log-probabilities of the same candidate tokens."""
    vocab = Vocabulary(args.model_dir)
    model = Path(args.model_dir).name
    agreed = 0
    worst = 0.0
    lines = []
    for k in range(args.prompts):
        path, body = request_body("gatehouse", model, vocab, 7 + k, args.prompt, args.tokens, top=5)
        g = post(args.gatehouse, path, body)["choices"][0]["logprobs"]
        path, body = request_body("llamacpp", model, vocab, 7 + k, args.prompt, args.tokens, top=5)
        probs = post(args.llamacpp, path, body)["completion_probabilities"]
        g_ids = [vocab.id_of[t.strip()] for t in g["tokens"]]
        l_ids = [p["id"] for p in probs]
        same = 0
        while same < min(len(g_ids), len(l_ids)) and g_ids[same] == l_ids[same]:
            same += 1
        for pos in range(same):  # candidates both listed: chosen token and alternatives
            l_top = {t["id"]: t["logprob"] for t in probs[pos]["top_logprobs"]}
            for text, lp in g["top_logprobs"][pos].items():
                i = vocab.id_of[text.strip()]
                if i in l_top:
                    worst = max(worst, abs(lp - l_top[i]))
        ok = g_ids == l_ids
        agreed += ok
        line = f"prompt {k}: {len(g_ids)} / {len(l_ids)} tokens, " + (
            "identical" if ok else f"first difference at token {same}: Gatehouse {g_ids[same:same + 3]}, "
            f"llama.cpp {l_ids[same:same + 3]}")
        if not ok and same < min(len(g_ids), len(l_ids)):
            g_top = {vocab.id_of[t.strip()]: lp for t, lp in g["top_logprobs"][same].items()}
            l_top = {t["id"]: t["logprob"] for t in probs[same]["top_logprobs"]}
            line += f" (logprobs there: Gatehouse {g_top}, llama.cpp {l_top})"
        lines.append(line)
    print("\n".join(lines))
    print(json.dumps({"prompts": args.prompts, "identical": agreed, "max_logprob_difference": round(worst, 5)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("load")
    p.add_argument("kind", choices=["gatehouse", "llamacpp"])
    p.add_argument("url")
    p.add_argument("model_dir")
    p.add_argument("clients", type=int)
    p.add_argument("--requests", type=int, default=0)
    p.add_argument("--prompt", type=int, default=32)
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--seed", type=int, default=1000)
    c = sub.add_parser("compare")
    c.add_argument("gatehouse")
    c.add_argument("llamacpp")
    c.add_argument("model_dir")
    c.add_argument("--prompts", type=int, default=3)
    c.add_argument("--prompt", type=int, default=32)
    c.add_argument("--tokens", type=int, default=32)
    args = parser.parse_args()
    load(args) if args.command == "load" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
