#!/usr/bin/python3
# Trains a character-level decoder of export_decoders.py on The Devil's Dictionary (seeded, CPU, minutes) and saves models/<name>/weights.pt.
"""Train a small character-level decoder for onnx2wasm's LLM demo and tests.

    /usr/bin/python3 models/train_decoder.py                      # gpt2_char, 1100 steps
    /usr/bin/python3 models/train_decoder.py --model llama_char --steps 300
    /usr/bin/python3 models/export_decoders.py --only gpt2_char   # export with the weights

Corpus: models/corpus.py (The Devil's Dictionary, public domain; Debian package dict-devil).
The last 5% of the text is held out for the validation loss. Each step takes a batch of
--batch (8) random windows of --block characters (default: the model's context bound, 256 for
gpt2_char, so every learned position embedding is trained; offsets from a seeded generator)
and does one AdamW update (lr 3e-3, warm-up over 100 steps, cosine decay to 10%, weight decay
0.1, gradient clipping at 1.0).

Reproducible: torch.manual_seed(--seed) for the init and a separate seeded generator for the
batches; torch runs on --threads threads (default 2). Bit-identical weights need the same
thread count, BLAS and CPU; elsewhere the loss curve agrees to a few digits.

Speed: Debian's torch 1.13 calls the system BLAS (libblas.so.3), which by default is the
reference implementation (~6 GFLOP/s: ~5 s per step). When OpenBLAS is installed
(apt-get install libopenblas0-pthread; ~120 GFLOP/s on 2 threads), the script re-executes
itself with LD_LIBRARY_PATH pointing at it, for itself only, so the system's BLAS choice
(update-alternatives) does not matter. O2W_TRAIN_NO_OPENBLAS=1 disables that.

Writes models/<name>/weights.pt (state dict, ~3.4 MB for gpt2_char), models/<name>/vocab.json
(the corpus's characters) and models/<name>/train_log.json (losses, time, corpus source).
Time for the defaults: ~7 minutes with OpenBLAS on 2 cores of a shared, busy Debian 12 VM
(~0.36 s/step; see models/README.md); far longer with the reference BLAS.
"""
import argparse
import json
import math
import os
import sys
import time

OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread'
if (os.path.exists(os.path.join(OPENBLAS, 'libblas.so.3')) and not os.environ.get('O2W_TRAIN_NO_OPENBLAS')
        and OPENBLAS not in os.environ.get('LD_LIBRARY_PATH', '')):
    _threads = sys.argv[sys.argv.index('--threads') + 1] if '--threads' in sys.argv[:-1] else '2'
    os.environ['LD_LIBRARY_PATH'] = ':'.join(filter(None, [OPENBLAS, os.environ.get('LD_LIBRARY_PATH')]))
    os.environ['OPENBLAS_NUM_THREADS'] = _threads
    os.execv(sys.executable, [sys.executable] + sys.argv)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_decoders as E  # noqa: E402
from corpus import SOURCE, load_corpus  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default='gpt2_char', choices=sorted(E.CONFIGS))
    ap.add_argument('--steps', type=int, default=1100)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--block', type=int, default=0, help='window length (default: the model\'s context bound)')
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--beta2', type=float, default=0.95)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--eval-every', type=int, default=250)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    text, src = load_corpus()
    chars = sorted(set(text))
    E.write_vocab(args.model, chars, SOURCE)
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.int64)
    n_val = len(data) // 20
    train, val = data[:-n_val], data[-n_val:]
    blas = 'OpenBLAS' if OPENBLAS in os.environ.get('LD_LIBRARY_PATH', '') else 'system BLAS'
    print(f'torch {torch.__version__}, {args.threads} threads, {blas}', flush=True)
    print(f'corpus {src}: {len(text)} chars, vocab {len(chars)}, train {len(train)}, val {len(val)}', flush=True)

    model = E.build(args.model, len(chars), seed=args.seed, weights=False)
    c = model.c
    args.block = args.block or c['ctx']
    if args.block > c['ctx']:
        sys.exit(f'--block {args.block} exceeds the context bound {c["ctx"]}')
    E.set_batch(model, args.batch)
    model.train()
    nparams = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=args.lr, betas=(0.9, args.beta2))
    gen = torch.Generator().manual_seed(args.seed)
    pos = torch.arange(args.block).reshape(1, -1)
    pasts = E.empty_past(c, batch=args.batch)

    def batch(src_data, g):
        ix = torch.randint(0, len(src_data) - args.block - 1, (args.batch,), generator=g)
        x = torch.stack([src_data[i:i + args.block] for i in ix])
        y = torch.stack([src_data[i + 1:i + 1 + args.block] for i in ix])
        return x, y

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        t = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))

    @torch.no_grad()
    def evaluate(n_batches=8):
        model.eval()
        g = torch.Generator().manual_seed(999)
        losses = []
        for src_data in (train, val):
            tot = 0.0
            for _ in range(n_batches):
                x, y = batch(src_data, g)
                logits = model(x, pos, *pasts)[0]
                tot += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()
            losses.append(tot / n_batches)
        model.train()
        return losses

    log = {'model': args.model, 'blas': blas, 'corpus': SOURCE, 'corpus_chars': len(text), 'params': nparams,
           'args': vars(args), 'evals': []}
    t0 = time.time()
    for step in range(args.steps):
        for grp in opt.param_groups:
            grp['lr'] = lr_at(step)
        x, y = batch(train, gen)
        logits = model(x, pos, *pasts)[0]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0:
            print(f'step {step:5d}  loss {loss.item():.4f}  lr {lr_at(step):.2e}  {time.time() - t0:6.1f} s', flush=True)
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            tr, va = evaluate()
            log['evals'].append({'step': step + 1, 'train': round(tr, 4), 'val': round(va, 4),
                                 'seconds': round(time.time() - t0, 1)})
            print(f'eval step {step + 1}: train {tr:.4f}  val {va:.4f} (nats/char)', flush=True)
    log['seconds'] = round(time.time() - t0, 1)
    model.eval()
    E.set_batch(model, 1)
    os.makedirs(os.path.join(HERE, args.model), exist_ok=True)
    torch.save(model.state_dict(), E.weights_path(args.model))
    with open(os.path.join(HERE, args.model, 'train_log.json'), 'w') as f:
        json.dump(log, f, indent=1)
        f.write('\n')
    print(f'{args.model}: {nparams} params, {args.steps} steps in {log["seconds"]} s; '
          f'final train {log["evals"][-1]["train"]}, val {log["evals"][-1]["val"]}; wrote {E.weights_path(args.model)}')


if __name__ == '__main__':
    main()
