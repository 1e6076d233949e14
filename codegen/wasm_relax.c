/* wasm_relax.c — placeholder imports -> relaxed-SIMD instructions in a finished module (see wasm_relax.h).
 * A small wasm binary reader/writer: sections are copied unless they hold function indices; function bodies
 * are walked instruction by instruction (every immediate format of the MVP, sign-extension, non-trapping
 * conversions, bulk memory, reference types and SIMD128), rewriting only call/ref.func. */
#include "wasm_relax.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the placeholders the kernels use and the relaxed-SIMD opcodes (after the 0xFD prefix) they stand for */
static const struct { const char *name; uint32_t op; } PLACEHOLDERS[] = {
    {"f32x4_madd", 0x105},
    {"f32x4_nmadd", 0x106},
    {"f32x4_min", 0x10d},
    {"f32x4_max", 0x10e},
    {"i32x4_dot_i8x16_i7x16_add_s", 0x113},
};

typedef struct { const uint8_t *p, *end; bool bad; } Rd;
typedef struct { uint8_t *b; size_t n, cap; bool oom; } Wr;

static uint32_t rd_u32(Rd *r) {
  uint32_t v = 0;
  for (int sh = 0; sh < 35; sh += 7) {
    if (r->p >= r->end) { r->bad = true; return 0; }
    uint8_t c = *r->p++;
    v |= (uint32_t)(c & 0x7f) << sh;
    if (!(c & 0x80)) return v;
  }
  r->bad = true;
  return 0;
}
static void rd_skip_leb(Rd *r) {   /* a signed or unsigned LEB128 of any width up to 64 bits */
  for (int i = 0; i < 10; i++) {
    if (r->p >= r->end) { r->bad = true; return; }
    if (!(*r->p++ & 0x80)) return;
  }
  r->bad = true;
}
static void rd_skip(Rd *r, size_t n) {
  if ((size_t)(r->end - r->p) < n) { r->bad = true; r->p = r->end; return; }
  r->p += n;
}
static uint8_t rd_byte(Rd *r) {
  if (r->p >= r->end) { r->bad = true; return 0; }
  return *r->p++;
}

static void wr_bytes(Wr *w, const void *d, size_t n) {
  if (w->oom) return;
  if (w->n + n > w->cap) {
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->n + n) cap *= 2;
    uint8_t *b = realloc(w->b, cap);
    if (!b) { w->oom = true; return; }
    w->b = b; w->cap = cap;
  }
  memcpy(w->b + w->n, d, n);
  w->n += n;
}
static void wr_byte(Wr *w, uint8_t c) { wr_bytes(w, &c, 1); }
static void wr_u32(Wr *w, uint32_t v) {
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    wr_byte(w, (uint8_t)(c | (v ? 0x80 : 0)));
  } while (v);
}
/* section id + size + contents */
static void wr_section(Wr *w, uint8_t id, const Wr *body) {
  wr_byte(w, id);
  wr_u32(w, (uint32_t)body->n);
  wr_bytes(w, body->b, body->n);
}

typedef struct {
  uint32_t nimported;   /* function imports in the input */
  uint32_t *remap;      /* [old function index] -> new index, or UINT32_MAX for a placeholder */
  uint32_t *op;         /* [old function index] -> relaxed opcode of a placeholder */
  uint32_t nfuncs;      /* function indices known (imports + defined) */
  char *err;
  size_t errsize;
} Ctx;

static int fail(Ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errsize, fmt, ap);
  va_end(ap);
  return -1;
}

static int func_index(Ctx *c, uint32_t old, uint32_t *nw) {
  if (old >= c->nfuncs) return fail(c, "function index %u out of range", old);
  if (c->remap[old] == UINT32_MAX) return fail(c, "a relaxed-SIMD placeholder (function %u) is referenced other than by call", old);
  *nw = c->remap[old];
  return 0;
}

/* one function body's instructions, from r to its end, rewritten into w */
static int rewrite_code(Ctx *c, Rd *r, Wr *w) {
  while (r->p < r->end && !r->bad) {
    const uint8_t *start = r->p;
    uint8_t op = rd_byte(r);
    if (op == 0x10 || op == 0x12 || op == 0xD2) {   /* call, return_call, ref.func */
      uint32_t f = rd_u32(r);
      if (r->bad) break;
      if (op == 0x10 && f < c->nfuncs && c->remap[f] == UINT32_MAX) {
        wr_byte(w, 0xFD);
        wr_u32(w, c->op[f]);
        continue;
      }
      uint32_t nf = 0;
      if (func_index(c, f, &nf)) return -1;
      wr_byte(w, op);
      wr_u32(w, nf);
      continue;
    }
    switch (op) {
    case 0x02: case 0x03: case 0x04: {             /* block, loop, if: block type */
      uint8_t t = rd_byte(r);
      if (!(t == 0x40 || (t >= 0x6f && t <= 0x7f))) { r->p--; rd_skip_leb(r); }
      break;
    }
    case 0x0C: case 0x0D: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
      rd_skip_leb(r);
      break;
    case 0x0E: {                                   /* br_table */
      uint32_t n = rd_u32(r);
      for (uint32_t i = 0; i <= n && !r->bad; i++) rd_skip_leb(r);
      break;
    }
    case 0x11: case 0x13: rd_skip_leb(r); rd_skip_leb(r); break;   /* call_indirect: type, table */
    case 0x1C: {                                   /* select t* */
      uint32_t n = rd_u32(r);
      rd_skip(r, n);
      break;
    }
    case 0x3F: case 0x40: rd_skip(r, 1); break;    /* memory.size/grow */
    case 0x41: case 0x42: rd_skip_leb(r); break;
    case 0x43: rd_skip(r, 4); break;
    case 0x44: rd_skip(r, 8); break;
    case 0xD0: rd_skip(r, 1); break;               /* ref.null t */
    case 0xFC: {
      uint32_t s = rd_u32(r);
      if (s <= 7) break;                           /* trunc_sat */
      if (s == 8) { rd_skip_leb(r); rd_skip(r, 1); }          /* memory.init */
      else if (s == 9 || s == 13 || s == 15 || s == 16 || s == 17) rd_skip_leb(r);
      else if (s == 10) rd_skip(r, 2);             /* memory.copy */
      else if (s == 11) rd_skip(r, 1);             /* memory.fill */
      else if (s == 12 || s == 14) { rd_skip_leb(r); rd_skip_leb(r); }
      else return fail(c, "unknown instruction 0xfc %u", s);
      break;
    }
    case 0xFD: {
      uint32_t s = rd_u32(r);
      if (s <= 0x0B || s == 0x5C || s == 0x5D) { rd_skip_leb(r); rd_skip_leb(r); }           /* memarg */
      else if (s == 0x0C || s == 0x0D) rd_skip(r, 16);                                           /* const, shuffle */
      else if (s >= 0x15 && s <= 0x22) rd_skip(r, 1);                                           /* lanes */
      else if (s >= 0x54 && s <= 0x5B) { rd_skip_leb(r); rd_skip_leb(r); rd_skip(r, 1); }     /* load/store lane */
      else if (s > 0x113) return fail(c, "unknown instruction 0xfd %u", s);
      break;
    }
    default:
      if (op >= 0x28 && op <= 0x3E) { rd_skip_leb(r); rd_skip_leb(r); break; }                /* memarg */
      if (op <= 0x01 || op == 0x05 || op == 0x0B || op == 0x0F || op == 0x1A || op == 0x1B ||
          (op >= 0x45 && op <= 0xC4) || op == 0xD1)
        break;                                                                                   /* no immediate */
      return fail(c, "unknown instruction 0x%02x", op);
    }
    wr_bytes(w, start, (size_t)(r->p - start));
  }
  return r->bad ? fail(c, "truncated function body") : 0;
}

static int rewrite_code_section(Ctx *c, Rd *r, Wr *w) {
  uint32_t n = rd_u32(r);
  wr_u32(w, n);
  for (uint32_t i = 0; i < n && !r->bad; i++) {
    uint32_t size = rd_u32(r);
    if (r->bad || (size_t)(r->end - r->p) < size) return fail(c, "truncated code section");
    Rd body = {r->p, r->p + size, false};
    r->p += size;
    Wr out = {0};
    uint32_t ngroups = rd_u32(&body);   /* locals: copied */
    for (uint32_t k = 0; k < ngroups && !body.bad; k++) { rd_skip_leb(&body); rd_skip(&body, 1); }
    wr_bytes(&out, r->p - size, (size_t)(body.p - (r->p - size)));
    if (body.bad || rewrite_code(c, &body, &out)) { free(out.b); return body.bad ? fail(c, "bad function body") : -1; }
    if (out.oom) { free(out.b); return fail(c, "out of memory"); }
    wr_u32(w, (uint32_t)out.n);
    wr_bytes(w, out.b, out.n);
    free(out.b);
  }
  return r->bad ? fail(c, "truncated code section") : 0;
}

/* element segments of flags 0-3 (function index vectors) */
static int rewrite_elements(Ctx *c, Rd *r, Wr *w) {
  uint32_t n = rd_u32(r);
  wr_u32(w, n);
  for (uint32_t i = 0; i < n && !r->bad; i++) {
    const uint8_t *start = r->p;
    uint32_t flags = rd_u32(r);
    if (flags > 3) return fail(c, "element segment kind %u not supported", flags);
    if (flags == 2) rd_skip_leb(r);                         /* table index */
    if (flags == 0 || flags == 2) {   /* the offset: a constant expression, i32.const N or global.get N, end */
      uint8_t op = rd_byte(r);
      if (op != 0x41 && op != 0x23) return fail(c, "element offset is not a constant");
      rd_skip_leb(r);
      if (rd_byte(r) != 0x0B) return fail(c, "element offset is not a constant");
    }
    if (flags == 1 || flags == 2 || flags == 3) rd_skip(r, 1);   /* elemkind */
    wr_bytes(w, start, (size_t)(r->p - start));
    uint32_t k = rd_u32(r);
    wr_u32(w, k);
    for (uint32_t j = 0; j < k && !r->bad; j++) {
      uint32_t nf = 0;
      if (func_index(c, rd_u32(r), &nf)) return -1;
      wr_u32(w, nf);
    }
  }
  return r->bad ? fail(c, "truncated element section") : 0;
}

static bool name_is(Rd *r, uint32_t len, const char *s) { return strlen(s) == len && !memcmp(r->p, s, len); }

int cg_wasm_relax(const uint8_t *in, size_t n, uint8_t **out, size_t *outn, char *err, size_t errsize) {
  Ctx c = {0, NULL, NULL, 0, err, errsize};
  Wr w = {0};
  int ret = -1;
  if (n < 8 || memcmp(in, "\0asm\1\0\0\0", 8)) { fail(&c, "not a wasm module"); goto done; }
  /* pass 1: imports and the number of defined functions */
  uint32_t ndefined = 0;
  for (Rd r = {in + 8, in + n, false}; r.p < r.end;) {
    uint8_t id = rd_byte(&r);
    uint32_t size = rd_u32(&r);
    if (r.bad || (size_t)(r.end - r.p) < size) { fail(&c, "truncated section"); goto done; }
    Rd s = {r.p, r.p + size, false};
    r.p += size;
    if (id == 3) ndefined = rd_u32(&s);
    if (id != 2) continue;
    uint32_t k = rd_u32(&s);
    /* at most k function imports: sized now, filled in order */
    c.remap = calloc((size_t)k + 1, sizeof *c.remap);
    c.op = calloc((size_t)k + 1, sizeof *c.op);
    if (!c.remap || !c.op) { fail(&c, "out of memory"); goto done; }
    for (uint32_t i = 0; i < k && !s.bad; i++) {
      uint32_t ml = rd_u32(&s);
      bool ours = !s.bad && (size_t)(s.end - s.p) >= ml && name_is(&s, ml, CG_RELAXED_IMPORT_MODULE);
      rd_skip(&s, ml);
      uint32_t fl = rd_u32(&s);
      const char *fname = (const char *)s.p;
      rd_skip(&s, fl);
      uint8_t kind = rd_byte(&s);
      if (kind == 0) {
        rd_skip_leb(&s);
        uint32_t op = 0;
        if (ours) {
          for (size_t q = 0; q < sizeof PLACEHOLDERS / sizeof PLACEHOLDERS[0]; q++)
            if (strlen(PLACEHOLDERS[q].name) == fl && !memcmp(fname, PLACEHOLDERS[q].name, fl)) op = PLACEHOLDERS[q].op;
          if (!op) { fail(&c, "unknown relaxed-SIMD placeholder %s.%.*s", CG_RELAXED_IMPORT_MODULE, (int)fl, fname); goto done; }
        }
        c.op[c.nimported] = op;
        c.remap[c.nimported++] = op ? UINT32_MAX : 0;
      } else if (kind == 1) { rd_skip(&s, 1); uint8_t lim = rd_byte(&s); rd_skip_leb(&s); if (lim & 1) rd_skip_leb(&s); }
      else if (kind == 2) { uint8_t lim = rd_byte(&s); rd_skip_leb(&s); if (lim & 1) rd_skip_leb(&s); }
      else if (kind == 3) rd_skip(&s, 2);
      else { fail(&c, "unknown import kind %u", kind); goto done; }
    }
    if (s.bad) { fail(&c, "truncated import section"); goto done; }
  }
  c.nfuncs = c.nimported + ndefined;
  {
    uint32_t *remap = calloc((size_t)c.nfuncs + 1, sizeof *remap), *ops = calloc((size_t)c.nfuncs + 1, sizeof *ops);
    if (!remap || !ops) { free(remap); free(ops); fail(&c, "out of memory"); goto done; }
    uint32_t next = 0;
    for (uint32_t i = 0; i < c.nfuncs; i++) {
      bool ph = i < c.nimported && c.remap[i] == UINT32_MAX;
      ops[i] = i < c.nimported ? c.op[i] : 0;
      remap[i] = ph ? UINT32_MAX : next++;
    }
    free(c.remap); free(c.op);
    c.remap = remap; c.op = ops;
  }
  /* pass 2: the output */
  wr_bytes(&w, in, 8);
  for (Rd r = {in + 8, in + n, false}; r.p < r.end;) {
    uint8_t id = rd_byte(&r);
    uint32_t size = rd_u32(&r);
    Rd s = {r.p, r.p + size, false};
    r.p += size;
    Wr body = {0};
    int e = 0;
    if (id == 0) {                                       /* custom: drop "name" (old indices) */
      uint32_t l = rd_u32(&s);
      if (!s.bad && (size_t)(s.end - s.p) >= l && name_is(&s, l, "name")) continue;
      wr_bytes(&body, r.p - size, size);
    } else if (id == 2) {                                /* imports without the placeholders */
      uint32_t k = rd_u32(&s), kept = 0, fi = 0;
      Wr list = {0};
      for (uint32_t i = 0; i < k && !s.bad; i++) {
        const uint8_t *st = s.p;
        uint32_t ml = rd_u32(&s); rd_skip(&s, ml);
        uint32_t fl = rd_u32(&s); rd_skip(&s, fl);
        uint8_t kind = rd_byte(&s);
        bool drop = false;
        if (kind == 0) { rd_skip_leb(&s); drop = c.remap[fi++] == UINT32_MAX; }
        else if (kind == 1) { rd_skip(&s, 1); uint8_t lim = rd_byte(&s); rd_skip_leb(&s); if (lim & 1) rd_skip_leb(&s); }
        else if (kind == 2) { uint8_t lim = rd_byte(&s); rd_skip_leb(&s); if (lim & 1) rd_skip_leb(&s); }
        else rd_skip(&s, 2);
        if (!drop) { wr_bytes(&list, st, (size_t)(s.p - st)); kept++; }
      }
      if (kept) { wr_u32(&body, kept); wr_bytes(&body, list.b, list.n); }
      free(list.b);
      if (!kept) { free(body.b); continue; }
    } else if (id == 7) {                                /* exports */
      uint32_t k = rd_u32(&s);
      wr_u32(&body, k);
      for (uint32_t i = 0; i < k && !s.bad && !e; i++) {
        uint32_t l = rd_u32(&s);
        const uint8_t *nm = s.p;
        rd_skip(&s, l);
        uint8_t kind = rd_byte(&s);
        uint32_t idx = rd_u32(&s), nf = idx;
        if (s.bad) break;
        if (kind == 0 && func_index(&c, idx, &nf)) e = -1;
        wr_u32(&body, l);
        wr_bytes(&body, nm, l);
        wr_byte(&body, kind);
        wr_u32(&body, nf);
      }
    } else if (id == 8) {                                /* start */
      uint32_t nf = 0;
      if (func_index(&c, rd_u32(&s), &nf)) e = -1;
      else wr_u32(&body, nf);
    } else if (id == 9) {
      e = rewrite_elements(&c, &s, &body);
    } else if (id == 10) {
      e = rewrite_code_section(&c, &s, &body);
    } else {
      wr_bytes(&body, r.p - size, size);
    }
    if (!e && (s.bad || body.oom)) e = fail(&c, s.bad ? "truncated section %u" : "out of memory", id);
    if (e) { free(body.b); goto done; }
    wr_section(&w, id, &body);
    free(body.b);
  }
  if (w.oom) { fail(&c, "out of memory"); goto done; }
  *out = w.b;
  *outn = w.n;
  w.b = NULL;
  ret = 0;
done:
  free(w.b);
  free(c.remap);
  free(c.op);
  return ret;
}
