#!/usr/bin/env python3
"""Converts a Llama or Qwen2 model folder in the Hugging Face layout (config.json, tokenizer.json,
*.safetensors in F32, F16 or BF16) to one GGUF file that llama.cpp loads, so both engines can run the
same weights (scripts/bench-vs-llamacpp). Needs only numpy: llama.cpp's own convert_hf_to_gguf.py
needs torch. Written from the GGUF v3 layout (ggml/docs/gguf.md) and the tensor names llama.cpp
expects; it covers the test models of the benchmarks, not every checkpoint on the Hub.

    scripts/safetensors-to-gguf.py MODEL_DIR OUT.gguf [--type f32|f16|bf16]

--type sets the matrices' storage type (default f32: the values as stored, widened exactly); norm
weights and biases stay F32, as llama.cpp's converter keeps them.

The vocabulary goes in as a SentencePiece-style ("llama") token list with the tokens' own strings,
so llama.cpp prints the same token texts; the benchmarks send token ids, never text for it to
tokenize, and no BOS is added for them (tokenizer.ggml.add_bos_token false).
"""
import argparse
import json
import struct
import sys
from pathlib import Path

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32
# metadata value types
UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9
# tensor types and the matching general.file_type
TENSOR_TYPES = {"f32": (0, 0), "f16": (1, 1), "bf16": (30, 32)}

LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight", "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.weight": "attn_k.weight", "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.weight": "attn_v.weight", "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight", "self_attn.o_proj.bias": "attn_output.bias",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
TOP_NAMES = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
ARCHITECTURES = {"LlamaForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2"}


def gguf_name(hf_name):
    if hf_name in TOP_NAMES:
        return TOP_NAMES[hf_name]
    parts = hf_name.split(".", 3)  # model.layers.N.rest
    if len(parts) == 4 and parts[:2] == ["model", "layers"] and parts[3] in LAYER_NAMES:
        return f"blk.{parts[2]}.{LAYER_NAMES[parts[3]]}"
    raise SystemExit(f"safetensors-to-gguf: no GGUF name for tensor {hf_name}")


def read_safetensors(path):
    """Yields (name, float32 array) for each tensor of one .safetensors file, memory-mapped."""
    with open(path, "rb") as f:
        header_len = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_len))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = data[start:end]
        dtype = info["dtype"]
        if dtype == "F32":
            values = raw.view("<f4")
        elif dtype == "F16":
            values = raw.view("<f2").astype(np.float32)
        elif dtype == "BF16":
            values = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"safetensors-to-gguf: {name} is {dtype}; only F32, F16 and BF16 are read")
        yield name, values.reshape(info["shape"])


def rope_permute(w, heads):
    """Hugging Face rotates the two halves of each head (rotate_half); llama.cpp's Llama graph rotates
    adjacent pairs. Reordering each head's rows (x0..x[d/2-1], x[d/2]..) -> (x0, x[d/2], x1, ...) makes
    the pairwise rotation compute what Hugging Face's does; llama.cpp's own converter does the same."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def to_storage(values, storage):
    if storage == "f32":
        return np.ascontiguousarray(values, dtype="<f4")
    if storage == "f16":
        return np.ascontiguousarray(values, dtype="<f2")
    bits = np.ascontiguousarray(values, dtype="<f4").view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16  # round to nearest even, as torch does
    return rounded.astype("<u2")


class Writer:
    def __init__(self):
        self.kv = []

    def add(self, key, vtype, value):
        self.kv.append((key, vtype, value))

    @staticmethod
    def _string(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def _value(self, vtype, value):
        if vtype == STRING:
            return self._string(value)
        if vtype == ARRAY:
            etype, items = value
            out = [struct.pack("<IQ", etype, len(items))]
            if etype == STRING:
                out.extend(self._string(s) for s in items)
            else:
                out.append(np.asarray(items, dtype={INT32: "<i4", FLOAT32: "<f4", UINT32: "<u4"}[etype]).tobytes())
            return b"".join(out)
        return struct.pack({UINT32: "<I", INT32: "<i", FLOAT32: "<f", BOOL: "<?"}[vtype], value)

    def write(self, out_path, tensors):
        """tensors: list of (name, array in its storage type, ggml type)."""
        header = [GGUF_MAGIC, struct.pack("<IQQ", GGUF_VERSION, len(tensors), len(self.kv))]
        for key, vtype, value in self.kv:
            header += [self._string(key), struct.pack("<I", vtype), self._value(vtype, value)]
        offset = 0
        offsets = []
        for name, array, ggml_type in tensors:
            dims = list(reversed(array.shape))  # ggml lists the fastest-varying dimension first
            header += [self._string(name), struct.pack("<I", len(dims)), struct.pack(f"<{len(dims)}Q", *dims),
                       struct.pack("<IQ", ggml_type, offset)]
            offsets.append(offset)
            offset += -(-array.nbytes // ALIGNMENT) * ALIGNMENT
        head = b"".join(header)
        with open(out_path, "wb") as f:
            f.write(head + b"\0" * (-len(head) % ALIGNMENT))
            for (_, array, _), start in zip(tensors, offsets):
                f.write(array.tobytes())
                f.write(b"\0" * (-array.nbytes % ALIGNMENT))


def vocabulary(model_dir, vocab_size):
    tok = json.loads((model_dir / "tokenizer.json").read_text())
    model = tok["model"]
    if model.get("type") not in ("WordLevel", "BPE"):
        raise SystemExit(f"safetensors-to-gguf: tokenizer model {model.get('type')} is not handled")
    tokens = [f"[PAD{i}]" for i in range(vocab_size)]
    types = [1] * vocab_size  # 1 normal, 3 control, 5 unused
    for text, i in model["vocab"].items():
        if i < vocab_size:
            tokens[i] = text
    for added in tok.get("added_tokens", []):
        if added["id"] < vocab_size:
            tokens[added["id"]] = added["content"]
            types[added["id"]] = 3 if added.get("special") else 1
    for i, t in enumerate(tokens):
        if t == f"[PAD{i}]":
            types[i] = 5
    return tokens, types


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--type", choices=sorted(TENSOR_TYPES), default="f32")
    args = parser.parse_args()

    config = json.loads((args.model_dir / "config.json").read_text())
    arch = ARCHITECTURES.get((config.get("architectures") or ["?"])[0])
    if arch is None:
        raise SystemExit(f"safetensors-to-gguf: architecture {config.get('architectures')} is not handled "
                         f"(known: {', '.join(ARCHITECTURES)})")
    if config.get("rope_scaling"):
        raise SystemExit("safetensors-to-gguf: rope_scaling is not handled")
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", heads)
    head_dim = config.get("head_dim") or hidden // heads
    vocab_size = config["vocab_size"]
    ggml_type, file_type = TENSOR_TYPES[args.type]

    w = Writer()
    w.add("general.architecture", STRING, arch)
    w.add("general.name", STRING, args.model_dir.name)
    w.add("general.file_type", UINT32, file_type)
    w.add(f"{arch}.context_length", UINT32, config["max_position_embeddings"])
    w.add(f"{arch}.embedding_length", UINT32, hidden)
    w.add(f"{arch}.block_count", UINT32, config["num_hidden_layers"])
    w.add(f"{arch}.feed_forward_length", UINT32, config["intermediate_size"])
    w.add(f"{arch}.attention.head_count", UINT32, heads)
    w.add(f"{arch}.attention.head_count_kv", UINT32, kv_heads)
    w.add(f"{arch}.attention.layer_norm_rms_epsilon", FLOAT32, config["rms_norm_eps"])
    w.add(f"{arch}.rope.freq_base", FLOAT32, config.get("rope_theta", 10000.0))
    w.add(f"{arch}.rope.dimension_count", UINT32, head_dim)
    if head_dim != hidden // heads:
        w.add(f"{arch}.attention.key_length", UINT32, head_dim)
        w.add(f"{arch}.attention.value_length", UINT32, head_dim)
    w.add(f"{arch}.vocab_size", UINT32, vocab_size)

    tokens, types = vocabulary(args.model_dir, vocab_size)
    w.add("tokenizer.ggml.model", STRING, "llama")
    w.add("tokenizer.ggml.tokens", ARRAY, (STRING, tokens))
    w.add("tokenizer.ggml.scores", ARRAY, (FLOAT32, [0.0] * vocab_size))
    w.add("tokenizer.ggml.token_type", ARRAY, (INT32, types))
    bos = config.get("bos_token_id")
    eos = config.get("eos_token_id")
    eos = eos[0] if isinstance(eos, list) else eos
    if bos is not None:
        w.add("tokenizer.ggml.bos_token_id", UINT32, bos)
    if eos is not None:
        w.add("tokenizer.ggml.eos_token_id", UINT32, eos)
    w.add("tokenizer.ggml.add_bos_token", BOOL, False)
    w.add("tokenizer.ggml.add_eos_token", BOOL, False)

    tensors = []
    for path in sorted(args.model_dir.glob("*.safetensors")):
        for hf_name, values in read_safetensors(path):
            if hf_name.endswith("rotary_emb.inv_freq"):
                continue
            name = gguf_name(hf_name)
            if arch == "llama" and ".attn_q." in name:
                values = rope_permute(values, heads)
            elif arch == "llama" and ".attn_k." in name:
                values = rope_permute(values, kv_heads)
            if values.ndim == 2:
                tensors.append((name, to_storage(values, args.type), ggml_type))
            else:
                tensors.append((name, to_storage(values, "f32"), 0))
    if not tensors:
        raise SystemExit(f"safetensors-to-gguf: no .safetensors files in {args.model_dir}")
    w.write(args.out, tensors)
    print(f"wrote {args.out}: {arch}, {len(tensors)} tensors, {args.type}", file=sys.stderr)


if __name__ == "__main__":
    main()
