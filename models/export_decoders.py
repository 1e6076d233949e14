#!/usr/bin/python3
# Two small decoder-only transformers (GPT-2 style, LLaMA style) with a KV cache, exported to ONNX for onnx2wasm.
"""Decoder-only transformers with past/present KV tensors, exported for onnx2wasm's LLM work.

Run with Debian's python (torch 1.13, onnx, numpy):

    /usr/bin/python3 models/export_decoders.py                  # both models
    /usr/bin/python3 models/export_decoders.py --only llama_char --list-ops
    /usr/bin/python3 models/export_decoders.py --check          # + KV-cache decode in ort-web vs torch

Models (character level, vocabulary = the characters of the training corpus, see
models/README.md and models/train_decoder.py):

  gpt2_char   GPT-2 style: learned position embeddings, LayerNorm, GELU (tanh form), multi-head
              attention with biases, LM head tied to the token embedding. 4 layers, d_model 128,
              4 heads of 32, 0.84 M parameters. Uses models/gpt2_char/weights.pt when it exists
              (written by train_decoder.py), otherwise a seeded random init (with a warning).
  llama_char  LLaMA style: RMSNorm, rotary position embeddings (rotate-half form, cos/sin tables
              gathered by position), SwiGLU MLP, grouped-query attention (6 query heads sharing 2
              KV heads), no biases, untied LM head. 3 layers, d_model 192, head_dim 32, 1.21 M
              parameters. Seeded random init (PyTorch's default init, so logits are O(1)), or
              weights.pt if trained (train_decoder.py --model llama_char).

Context bounds (positions): gpt2_char 256 (its trained position embeddings; training uses
windows of 256), llama_char 512 (CTX).

ONNX interface (opset 14 by default, --opset 14..17):

  inputs   input_ids        int64   [1, seq]
           position_ids     int64   [1, seq]     absolute positions: past, past+1, ..., past+seq-1
           past_key_K       float32 [1, kv_heads, past, head_dim]   K = 0 .. layers-1
           past_value_K     float32 [1, kv_heads, past, head_dim]
  outputs  logits           float32 [1, seq, vocab]
           present_key_K    float32 [1, kv_heads, past + seq, head_dim]   (= concat(past, new))
           present_value_K  float32 [1, kv_heads, past + seq, head_dim]

The dim_params are "seq" and "past" on the inputs and "seq" on logits; the third dim of the
present outputs is written as the dim_param "past + seq" (the expression syntax of
docs/abi.md; --present-dim unknown leaves it without a name or value instead). Keys are stored
after the rotary embedding (LLaMA), so a present tensor is fed back unchanged as the next
past. For the first call past = 0 (empty past tensors).

Export-friendliness: no Shape/Size-based arithmetic, no Split, no Where/comparison ops.
Reshapes use constant target shapes with one -1 (x.reshape(1, -1, H, D)); slices have constant
bounds. GQA folds the G query heads of each KV head into rows: q [1, kv_heads, G * seq, D]
against k [1, kv_heads, past+seq, D] is a plain batched MatMul (no repeat_interleave/expand of
the keys, no broadcasting MatMul). The causal mask needs the key positions 0..past+seq-1
without knowing past+seq: they are the running count (CumSum) of a ones column made from the
concatenated keys (k[:, :1, :, :1] * 0 + 1); the additive mask is
Clip(key_pos - query_pos, 0, 1) * -1e30 with query_pos = position_ids (as float), i.e. key j
is visible to the query at position p iff j <= p. It is computed once (layer 0) and added to
every layer's scores. This is exact for any past and seq (prefill with past > 0 included) as
long as position_ids are the absolute positions. Besides the ops onnx2wasm already has, the
graphs need CumSum and ReduceMean only. --list-ops prints each graph's op types with counts.

--check: loads each export in onnxruntime-web, runs a prefill of a 23-character prompt then 40
KV-cache decode steps plus a 9-token chunked prefill with past > 0 (tools/llm-trace.mjs), and compares every step's
logits with a full recompute of the whole sequence in PyTorch (no cache, positions from 0).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEED = 0
OPSET = 14
CTX = 512

CONFIGS = {
    'gpt2_char': dict(arch='gpt2', n_layer=4, d_model=128, n_head=4, n_kv_head=4, d_ff=512, ctx=256),
    'llama_char': dict(arch='llama', n_layer=3, d_model=192, n_head=6, n_kv_head=2, d_ff=512, ctx=CTX,
                       rope_base=10000.0, eps=1e-5),
}


# ----------------------------------------------------------------------------- vocabulary

def vocab_path(name):
    return os.path.join(HERE, name, 'vocab.json')


def default_vocab():
    """The character vocabulary of the training corpus (models/corpus.py); ASCII fallback without it."""
    try:
        sys.path.insert(0, HERE)
        from corpus import load_corpus  # noqa: PLC0415
        text, _ = load_corpus()
        return sorted(set(text))
    except Exception as e:  # noqa: BLE001 - no corpus: still exportable
        print(f'note: corpus unavailable ({e}); using printable ASCII as the vocabulary', file=sys.stderr)
        return ['\n'] + [chr(c) for c in range(32, 127)]


def load_vocab(name):
    p = vocab_path(name)
    if os.path.exists(p):
        with open(p, encoding='utf-8') as f:
            return json.load(f)['chars']
    return None


def write_vocab(name, chars, source):
    os.makedirs(os.path.join(HERE, name), exist_ok=True)
    with open(vocab_path(name), 'w', encoding='utf-8') as f:
        json.dump({'chars': chars, 'unknown': ' ', 'source': source}, f, ensure_ascii=True)
        f.write('\n')


# ----------------------------------------------------------------------------- shared pieces

NEG = -1e30   # additive mask value: exp(NEG - max) is exactly 0 in float32, like -inf


def causal_bias(k_all, q_pos):
    """Float [1, 1, R, T] additive attention mask: 0 where key j <= query position, NEG after.

    k_all [1, heads, T, D] (T = past + seq), q_pos float [1, 1, R, 1] (the query rows' absolute
    positions). The key positions 0..T-1 are a CumSum over a ones column made from the keys, so
    no Shape op is needed; Clip(key - query, 0, 1) is 1 exactly for future keys (positions are
    exact integers in float32), so the mask needs only CumSum besides elementwise ops.
    """
    ones = k_all[:1, :1, :, :1].detach() * 0.0 + 1.0          # [1, 1, T, 1] (detach: no op in ONNX)
    key_pos = (torch.cumsum(ones, dim=2) - 1.0).reshape(1, 1, 1, -1)   # [1, 1, 1, T]: 0..T-1
    return torch.clamp(key_pos - q_pos, 0.0, 1.0) * NEG


class GPT2Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.d = c['n_head'], c['d_model'] // c['n_head']
        self.batch = 1                     # a Python int: constant reshape targets (training sets it)
        self.qkv = nn.Linear(c['d_model'], 3 * c['d_model'])
        self.proj = nn.Linear(c['d_model'], c['d_model'])

    def forward(self, x, past_k, past_v, position_ids, mask):
        h, d = self.h, self.d
        qkv = self.qkv(x)
        q, k, v = qkv[:, :, :h * d], qkv[:, :, h * d:2 * h * d], qkv[:, :, 2 * h * d:]
        b = self.batch
        q = q.reshape(b, -1, h, d).transpose(1, 2)            # [1, H, S, D]
        k = k.reshape(b, -1, h, d).transpose(1, 2)
        v = v.reshape(b, -1, h, d).transpose(1, 2)
        k_all = torch.cat([past_k, k], dim=2)                 # [1, H, T, D]
        v_all = torch.cat([past_v, v], dim=2)
        if mask is None:
            mask = causal_bias(k_all, position_ids.to(torch.float32).reshape(1, 1, -1, 1))
        att = torch.matmul(q, k_all.transpose(2, 3)) * (1.0 / math.sqrt(d)) + mask
        y = torch.matmul(torch.softmax(att, dim=-1), v_all)   # [1, H, S, D]
        y = y.transpose(1, 2).reshape(b, -1, h * d)
        return self.proj(y), k_all, v_all, mask


class GPT2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln1 = nn.LayerNorm(c['d_model'])
        self.attn = GPT2Attention(c)
        self.ln2 = nn.LayerNorm(c['d_model'])
        self.fc = nn.Linear(c['d_model'], c['d_ff'])
        self.out = nn.Linear(c['d_ff'], c['d_model'])

    def forward(self, x, past_k, past_v, position_ids, mask):
        a, k, v, mask = self.attn(self.ln1(x), past_k, past_v, position_ids, mask)
        x = x + a
        x = x + self.out(F.gelu(self.fc(self.ln2(x)), approximate='tanh'))
        return x, k, v, mask


class GPT2(nn.Module):
    def __init__(self, c, vocab):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(vocab, c['d_model'])
        self.wpe = nn.Embedding(c['ctx'], c['d_model'])
        self.blocks = nn.ModuleList([GPT2Block(c) for _ in range(c['n_layer'])])
        self.ln_f = nn.LayerNorm(c['d_model'])
        # GPT-2's init: N(0, 0.02) everywhere, residual projections scaled by 1/sqrt(2 * layers)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)
        for b in self.blocks:
            nn.init.normal_(b.attn.proj.weight, 0.0, 0.02 / math.sqrt(2 * c['n_layer']))
            nn.init.normal_(b.out.weight, 0.0, 0.02 / math.sqrt(2 * c['n_layer']))

    def forward(self, input_ids, position_ids, *past):
        x = self.wte(input_ids) + self.wpe(position_ids)
        presents, mask = [], None
        for i, b in enumerate(self.blocks):
            x, k, v, mask = b(x, past[2 * i], past[2 * i + 1], position_ids, mask)
            presents += [k, v]
        logits = torch.matmul(self.ln_f(x), self.wte.weight.t())   # tied LM head
        return (logits, *presents)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(torch.mean(x * x, dim=-1, keepdim=True) + self.eps) * self.weight


def rotate(x, cos, sin, half):
    """Rotary embedding, rotate-half form: x [1, heads, S, 2 * half], cos/sin [1, 1, S, half]."""
    x1, x2 = x[:, :, :, :half], x[:, :, :, half:]             # constant-bound Slices
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.kvh, self.d = c['n_head'], c['n_kv_head'], c['d_model'] // c['n_head']
        self.g = self.h // self.kvh
        self.batch = 1                     # a Python int: constant reshape targets (training sets it)
        self.wq = nn.Linear(c['d_model'], self.h * self.d, bias=False)
        self.wk = nn.Linear(c['d_model'], self.kvh * self.d, bias=False)
        self.wv = nn.Linear(c['d_model'], self.kvh * self.d, bias=False)
        self.wo = nn.Linear(self.h * self.d, c['d_model'], bias=False)

    def forward(self, x, past_k, past_v, cos, sin, position_ids, mask):
        h, kvh, g, d, b = self.h, self.kvh, self.g, self.d, self.batch
        q = self.wq(x).reshape(b, -1, h, d).transpose(1, 2)       # [1, H, S, D]
        k = self.wk(x).reshape(b, -1, kvh, d).transpose(1, 2)     # [1, KVH, S, D]
        v = self.wv(x).reshape(b, -1, kvh, d).transpose(1, 2)
        q, k = rotate(q, cos, sin, d // 2), rotate(k, cos, sin, d // 2)
        k_all = torch.cat([past_k, k], dim=2)                     # [1, KVH, T, D]
        v_all = torch.cat([past_v, v], dim=2)
        # grouped-query attention: query head j = kv * G + g uses KV head kv. The G query heads
        # of a KV head become G * S rows of one plain batched MatMul: q [1, KVH, G * S, D]
        # (row g * S + s), so no repeat_interleave/expand of the keys and no broadcasting MatMul.
        if mask is None:
            q_pos = position_ids.to(torch.float32)                # [1, S]
            q_pos = torch.cat([q_pos] * g, dim=1).reshape(1, 1, -1, 1)   # row g * S + s -> pos[s]
            mask = causal_bias(k_all, q_pos)                      # [1, 1, G * S, T]
        qg = q.reshape(b, kvh, -1, d)                             # [1, KVH, G * S, D]
        att = torch.matmul(qg, k_all.transpose(2, 3)) * (1.0 / math.sqrt(d)) + mask
        y = torch.matmul(torch.softmax(att, dim=-1), v_all)       # [1, KVH, G * S, D]
        y = y.reshape(b, h, -1, d).transpose(1, 2).reshape(b, -1, h * d)
        return self.wo(y), k_all, v_all, mask


class LlamaBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm1 = RMSNorm(c['d_model'], c['eps'])
        self.attn = LlamaAttention(c)
        self.norm2 = RMSNorm(c['d_model'], c['eps'])
        self.w1 = nn.Linear(c['d_model'], c['d_ff'], bias=False)   # gate
        self.w3 = nn.Linear(c['d_model'], c['d_ff'], bias=False)   # up
        self.w2 = nn.Linear(c['d_ff'], c['d_model'], bias=False)   # down

    def forward(self, x, past_k, past_v, cos, sin, position_ids, mask):
        a, k, v, mask = self.attn(self.norm1(x), past_k, past_v, cos, sin, position_ids, mask)
        x = x + a
        y = self.norm2(x)
        x = x + self.w2(F.silu(self.w1(y)) * self.w3(y))
        return x, k, v, mask


class Llama(nn.Module):
    def __init__(self, c, vocab):
        super().__init__()
        self.c = c
        self.emb = nn.Embedding(vocab, c['d_model'])
        self.blocks = nn.ModuleList([LlamaBlock(c) for _ in range(c['n_layer'])])
        self.norm = RMSNorm(c['d_model'], c['eps'])
        self.head = nn.Linear(c['d_model'], vocab, bias=False)
        d = c['d_model'] // c['n_head']
        inv = 1.0 / (c['rope_base'] ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        ang = torch.arange(c['ctx'], dtype=torch.float64)[:, None] * inv[None, :]
        self.register_buffer('cos_table', torch.cos(ang).float(), persistent=False)   # [CTX, D/2]
        self.register_buffer('sin_table', torch.sin(ang).float(), persistent=False)

    def forward(self, input_ids, position_ids, *past):
        x = self.emb(input_ids)
        cos = F.embedding(position_ids, self.cos_table).unsqueeze(1)   # [1, 1, S, D/2]
        sin = F.embedding(position_ids, self.sin_table).unsqueeze(1)
        presents, mask = [], None
        for i, b in enumerate(self.blocks):
            x, k, v, mask = b(x, past[2 * i], past[2 * i + 1], cos, sin, position_ids, mask)
            presents += [k, v]
        return (self.head(self.norm(x)), *presents)


ARCHS = {'gpt2': GPT2, 'llama': Llama}


def weights_path(name):
    return os.path.join(HERE, name, 'weights.pt')


def build(name, vocab_size, seed=SEED, weights=True):
    """Model `name` in eval mode: trained weights if present (and `weights`), else seeded random init."""
    torch.manual_seed(seed)
    c = CONFIGS[name]
    m = ARCHS[c['arch']](c, vocab_size)
    p = weights_path(name)
    m.trained = False
    if weights and os.path.exists(p):
        m.load_state_dict(torch.load(p, map_location='cpu'))
        m.trained = True
    return m.eval()


def set_batch(model, b):
    """Batch size of the forward pass (1 for export; training uses batches of sequences that
    share position_ids [1, S])."""
    for m in model.modules():
        if hasattr(m, 'batch'):
            m.batch = b


def empty_past(c, past=0, gen=None, batch=1):
    d = c['d_model'] // c['n_head']
    out = []
    for _ in range(c['n_layer']):
        for _ in range(2):
            out.append(torch.randn(batch, c['n_kv_head'], past, d, generator=gen) if past else
                       torch.zeros(batch, c['n_kv_head'], 0, d))
    return out


def io_names(c):
    ins, outs = ['input_ids', 'position_ids'], ['logits']
    for i in range(c['n_layer']):
        ins += [f'past_key_{i}', f'past_value_{i}']
        outs += [f'present_key_{i}', f'present_value_{i}']
    return ins, outs


def export(name, path, model, opset=OPSET, present_dim='expr'):
    import onnx  # noqa: PLC0415
    c = CONFIGS[name]
    ins, outs = io_names(c)
    gen = torch.Generator().manual_seed(1)
    past, seq = 5, 3                       # non-degenerate example sizes; both axes are dynamic
    ids = torch.randint(0, model.wte.num_embeddings if hasattr(model, 'wte') else model.emb.num_embeddings,
                        (1, seq), generator=gen)
    pos = torch.arange(past, past + seq).reshape(1, seq)
    pasts = empty_past(c, past, gen)
    dyn = {'input_ids': {1: 'seq'}, 'position_ids': {1: 'seq'}, 'logits': {1: 'seq'}}
    for n in ins[2:]:
        dyn[n] = {2: 'past'}
    for n in outs[1:]:
        dyn[n] = {2: 'total'}              # renamed below
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, (ids, pos, *pasts), path, opset_version=opset,
                          input_names=ins, output_names=outs, dynamic_axes=dyn,
                          do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL)
    m = onnx.load(path)
    for o in m.graph.output:
        if o.name.startswith('present_'):
            d = o.type.tensor_type.shape.dim[2]
            if present_dim == 'expr':
                d.dim_param = 'past + seq'
            else:
                d.Clear()
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return m


def op_counts(m):
    counts = {}
    for n in m.graph.node:
        key = n.op_type if n.domain in ('', 'ai.onnx') else f'{n.domain}.{n.op_type}'
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def weight_bytes(m):
    from onnx import numpy_helper  # noqa: PLC0415
    return int(sum(numpy_helper.to_array(t).nbytes for t in m.graph.initializer))


def write_config(name, model, m, opset):
    c = CONFIGS[name]
    ins, outs = io_names(c)
    cfg = dict(c, name=name, vocab=len(load_vocab(name)), head_dim=c['d_model'] // c['n_head'],
               opset=opset, trained=model.trained, weight_bytes=weight_bytes(m),
               inputs=ins, outputs=outs, ops=op_counts(m))
    with open(os.path.join(HERE, name, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=1)
        f.write('\n')
    return cfg


# ----------------------------------------------------------------------------- --check

def full_logits(model, tokens):
    """Logits [N, vocab] for the whole sequence, recomputed from scratch (no cache, past = 0)."""
    c = model.c
    ids = torch.tensor([tokens], dtype=torch.int64)
    pos = torch.arange(len(tokens)).reshape(1, -1)
    with torch.no_grad():
        return model(ids, pos, *empty_past(c))[0][0].numpy()


def check(name, path, model, steps=40):
    """ort-web KV-cache decoding (tools/llm-trace.mjs) against a full PyTorch recompute."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'trace')
        cmd = ['node', os.path.join(ROOT, 'tools', 'llm-trace.mjs'), path, '--engine', 'ort-web',
               '--prompt', 'ZEUS, n.  The chief of ', '--steps', str(steps), '--chunk', '9',
               '--out', out]
        subprocess.run(cmd, check=True)
        with open(out + '.json') as f:
            meta = json.load(f)
        logits = np.fromfile(out + '.f32', dtype=np.float32).reshape(-1, meta['vocab'])
    tokens = meta['tokens']
    ref = full_logits(model, tokens)            # [N, V]: row i = prediction after tokens[:i+1]
    worst, row = 0.0, 0
    for call in meta['calls']:
        # each call contributes logits for positions [past, past + seq)
        got = logits[row: row + call['seq']]
        exp = ref[call['past']: call['past'] + call['seq']]
        err = np.max(np.abs(got - exp) / (1e-4 + 1e-3 * np.abs(exp)))
        worst = max(worst, float(err))
        row += call['seq']
    scale = float(np.abs(ref).max())
    ok = worst <= 1.0
    print(f'{name}: ort-web KV-cache decode vs torch full recompute over {len(tokens)} tokens, '
          f'{len(meta["calls"])} calls (prefill {meta["calls"][0]["seq"]}, then seq 1 and a chunk of 9 with past > 0): '
          f'worst err/tol {worst:.3g} (rtol 1e-3, atol 1e-4; |logits| max {scale:.2f}) -> {"PASS" if ok else "FAIL"}')
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', action='append', choices=sorted(CONFIGS), metavar='NAME',
                    help=f'export only this model (repeatable): {", ".join(CONFIGS)}')
    ap.add_argument('--seed', type=int, default=SEED, help=f'seed of the random init (default {SEED})')
    ap.add_argument('--opset', type=int, default=OPSET, choices=range(14, 18), help=f'ONNX opset (default {OPSET})')
    ap.add_argument('--random-init', action='store_true', help='ignore models/<name>/weights.pt')
    ap.add_argument('--present-dim', choices=['expr', 'unknown'], default='expr',
                    help='third dim of present_*: dim_param "past + seq" (default) or unnamed')
    ap.add_argument('--list-ops', action='store_true', help='print the op types of each graph with counts')
    ap.add_argument('--check', action='store_true',
                    help='ort-web KV-cache decoding vs a full torch recompute (needs node + tools/node_modules)')
    args = ap.parse_args()
    torch.set_num_threads(1)

    failed = []
    for name in args.only or list(CONFIGS):
        chars = load_vocab(name)
        if chars is None:
            chars = default_vocab()
            write_vocab(name, chars, 'models/corpus.py')
        model = build(name, len(chars), args.seed, weights=not args.random_init)
        if CONFIGS[name]['arch'] == 'gpt2' and not model.trained:
            print(f'{name}: no {weights_path(name)}: exporting a random init '
                  f'(models/train_decoder.py trains it)', file=sys.stderr)
        path = os.path.join(HERE, name, 'model.onnx')
        m = export(name, path, model, args.opset, args.present_dim)
        cfg = write_config(name, model, m, args.opset)
        nparams = sum(p.numel() for p in model.parameters())
        print(f'{name}: wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB, {nparams} params, '
              f'{"trained" if model.trained else f"random init seed {args.seed}"}, opset {args.opset})', flush=True)
        if args.list_ops:
            print(f'{name} ops ({len(m.graph.node)} nodes): ' +
                  ', '.join(f'{k} {v}' for k, v in cfg['ops'].items()), flush=True)
        if args.check and not check(name, path, model):
            failed.append(name)
    if failed:
        sys.exit(f'check failed: {", ".join(failed)}')


if __name__ == '__main__':
    main()
