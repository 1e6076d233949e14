#!/usr/bin/python3
# Finds and cleans the training text: Ambrose Bierce's "The Devil's Dictionary" (1911, public domain) from Debian's dict-devil.
"""The training corpus of the character-level decoders (see models/README.md).

Source: the Debian package dict-devil (The Devil's Dictionary by Ambrose Bierce, 1911 edition,
copyright expired; the Internet Wiretap edition of 1993, "A Public Domain Text, Copyright
Expired"). The package stores it as /usr/share/dictd/devil.dict.dz, a gzip-compatible dictzip
file. Looked up in this order:

  1. $DEVIL_DICT (a path to devil.dict.dz or to plain text)
  2. /usr/share/dictd/devil.dict.dz               (apt-get install dict-devil)
  3. models/.cache/devil.dict.dz                  (a previous download)
  4. `apt-get download dict-devil` + `dpkg-deb -x` into models/.cache (needs no root, only
     Debian's package lists: run `apt-get update` once if it says the package is unknown)

Option 4 avoids installing dict-devil, which depends on the dictd server. The text kept runs
from the PREFACE to the last entry (ZOOLOGY): the dictd database header before it and the
index alphabet after it are dropped: 382,621 characters kept (of 383,656 bytes), 83 distinct
characters (ASCII only), sha256 of the UTF-8 text 7459904b817ceb98...

    /usr/bin/python3 models/corpus.py          # prints where it found the text and its stats
"""
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, '.cache')
SYSTEM = '/usr/share/dictd/devil.dict.dz'
SOURCE = "The Devil's Dictionary, Ambrose Bierce (1911), Debian package dict-devil"


def _download():
    os.makedirs(CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(['apt-get', 'download', 'dict-devil'], cwd=tmp, capture_output=True, text=True)
        debs = [f for f in os.listdir(tmp) if f.endswith('.deb')]
        if r.returncode != 0 or not debs:
            raise RuntimeError('cannot get dict-devil: `apt-get download dict-devil` failed '
                               f'({r.stderr.strip() or r.returncode}); run `apt-get update` or '
                               '`apt-get install dict-devil`, or set DEVIL_DICT')
        subprocess.run(['dpkg-deb', '-x', os.path.join(tmp, debs[0]), os.path.join(tmp, 'x')], check=True)
        shutil.copy(os.path.join(tmp, 'x', SYSTEM.lstrip('/')), os.path.join(CACHE, 'devil.dict.dz'))
    return os.path.join(CACHE, 'devil.dict.dz')


def find_source():
    for p in [os.environ.get('DEVIL_DICT'), SYSTEM, os.path.join(CACHE, 'devil.dict.dz')]:
        if p and os.path.exists(p):
            return p
    return _download()


def clean(raw):
    start = raw.find('PREFACE')
    if start < 0:
        raise RuntimeError("unexpected dict-devil content: no 'PREFACE'")
    start = raw.rfind('\n', 0, start) + 1
    tail = raw.rfind('Nature_) that the domestic cow')   # end of the last entry, ZOOLOGY
    if tail < 0:
        raise RuntimeError("unexpected dict-devil content: no final ZOOLOGY entry")
    text = raw[start:raw.find('\n', tail) + 1]
    text = '\n'.join(line.rstrip() for line in text.split('\n'))
    return text


def load_corpus():
    """(text, path): the cleaned corpus and the file it came from."""
    p = find_source()
    with open(p, 'rb') as f:
        data = f.read()
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    return clean(data.decode('utf-8', errors='replace')), p


if __name__ == '__main__':
    text, path = load_corpus()
    chars = sorted(set(text))
    print(f'{path}: {len(text)} characters, {len(chars)} distinct, '
          f'sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}')
    print(repr(text[:200]))
    print(repr(text[-200:]))
    sys.exit(0)
