// Raw DEFLATE (RFC 1951) for the .kiln header, synchronous so saveKiln and loadKiln stay
// synchronous on every host (CompressionStream exists in browsers, Node and Deno, but only as an
// asynchronous stream). The compressor is small: greedy LZ77 over hash chains and one block of
// the fixed Huffman codes, which is plenty for a JSON header. The decompressor reads any valid
// stream (stored, fixed and dynamic blocks, so CompressionStream('deflate-raw') output too), and
// since its input comes from a file, every read, code and distance is checked and the output may
// not exceed the length the caller expects.

const LEN_BASE = new Uint16Array(29);
const LEN_EXTRA = new Uint8Array(29);
const DIST_BASE = new Uint16Array(30);
const DIST_EXTRA = new Uint8Array(30);
{
  let base = 3;
  for (let i = 0; i < 28; i++) {
    LEN_EXTRA[i] = i < 8 ? 0 : (i >> 2) - 1;
    LEN_BASE[i] = base;
    base += 1 << LEN_EXTRA[i]!;
  }
  LEN_BASE[28] = 258; // code 285: exactly 258, no extra bits
  base = 1;
  for (let i = 0; i < 30; i++) {
    DIST_EXTRA[i] = i < 4 ? 0 : (i >> 1) - 1;
    DIST_BASE[i] = base;
    base += 1 << DIST_EXTRA[i]!;
  }
}
/** The order in which a dynamic block lists the code-length code's lengths. */
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

// ---- compression ----------------------------------------------------------------------------

class BitWriter {
  private out = new Uint8Array(1024);
  private n = 0;
  private acc = 0;
  private held = 0;

  /** `bits` (<= 16) low bits of `value`, LSB-first. */
  write(value: number, bits: number): void {
    this.acc |= value << this.held;
    this.held += bits;
    while (this.held >= 8) {
      this.push(this.acc & 0xff);
      this.acc >>>= 8;
      this.held -= 8;
    }
  }

  /** A Huffman code, which DEFLATE writes most significant bit first. */
  writeCode(code: number, len: number): void {
    let r = 0;
    for (let i = 0; i < len; i++) r |= ((code >> i) & 1) << (len - 1 - i);
    this.write(r, len);
  }

  finish(): Uint8Array {
    if (this.held > 0) this.push(this.acc & 0xff);
    this.held = 0;
    return this.out.slice(0, this.n);
  }

  private push(b: number): void {
    if (this.n === this.out.length) {
      const grown = new Uint8Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
    }
    this.out[this.n++] = b;
  }
}

function writeFixedLiteral(w: BitWriter, sym: number): void {
  if (sym < 144) w.writeCode(0x30 + sym, 8);
  else if (sym < 256) w.writeCode(0x190 + sym - 144, 9);
  else if (sym < 280) w.writeCode(sym - 256, 7);
  else w.writeCode(0xc0 + sym - 280, 8);
}

function writeMatch(w: BitWriter, length: number, distance: number): void {
  let l = 0;
  while (l < 28 && LEN_BASE[l + 1]! <= length) l++;
  if (length === 258) l = 28;
  writeFixedLiteral(w, 257 + l);
  if (LEN_EXTRA[l]) w.write(length - LEN_BASE[l]!, LEN_EXTRA[l]!);
  let d = 0;
  while (d < 29 && DIST_BASE[d + 1]! <= distance) d++;
  w.writeCode(d, 5);
  if (DIST_EXTRA[d]) w.write(distance - DIST_BASE[d]!, DIST_EXTRA[d]!);
}

const WINDOW = 32768;
const MAX_MATCH = 258;
const MAX_CHAIN = 128;

/** Compresses `input` as one final fixed-Huffman DEFLATE block. */
export function deflateRaw(input: Uint8Array): Uint8Array {
  const w = new BitWriter();
  w.write(1, 1); // BFINAL
  w.write(1, 2); // BTYPE 01: fixed Huffman codes
  const n = input.length;
  const head = new Int32Array(1 << 15).fill(-1);
  const prev = new Int32Array(n);
  const hash = (i: number) => ((input[i]! << 10) ^ (input[i + 1]! << 5) ^ input[i + 2]!) & 0x7fff;
  const insert = (i: number) => {
    if (i + 2 >= n) return;
    const h = hash(i);
    prev[i] = head[h]!;
    head[h] = i;
  };
  let i = 0;
  while (i < n) {
    let bestLen = 0;
    let bestDist = 0;
    if (i + 2 < n) {
      let cand = head[hash(i)]!;
      const limit = Math.min(MAX_MATCH, n - i);
      for (let chain = 0; cand >= 0 && i - cand <= WINDOW && chain < MAX_CHAIN; chain++) {
        let len = 0;
        while (len < limit && input[cand + len] === input[i + len]) len++;
        if (len > bestLen) {
          bestLen = len;
          bestDist = i - cand;
          if (len === limit) break;
        }
        cand = prev[cand]!;
      }
    }
    if (bestLen >= 3) {
      writeMatch(w, bestLen, bestDist);
      for (let j = 0; j < bestLen; j++) insert(i + j);
      i += bestLen;
    } else {
      writeFixedLiteral(w, input[i]!);
      insert(i);
      i++;
    }
  }
  writeFixedLiteral(w, 256); // end of block
  return w.finish();
}

// ---- decompression --------------------------------------------------------------------------

/** Canonical Huffman code as counts per length and symbols in code order. */
interface Huffman {
  counts: Uint16Array;
  symbols: Uint16Array;
}

function buildHuffman(lengths: Uint8Array, what: string): Huffman {
  const counts = new Uint16Array(16);
  for (const l of lengths) counts[l]!++;
  counts[0] = 0;
  let left = 1;
  for (let len = 1; len < 16; len++) {
    left = left * 2 - counts[len]!;
    if (left < 0) throw new Error(`kiln: compressed header: ${what} code lengths are over-subscribed`);
  }
  const offs = new Uint16Array(16);
  for (let len = 1; len < 15; len++) offs[len + 1] = offs[len]! + counts[len]!;
  const symbols = new Uint16Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) if (lengths[s]) symbols[offs[lengths[s]!]!++] = s;
  return { counts, symbols };
}

class BitReader {
  private pos = 0;
  private acc = 0;
  private held = 0;

  constructor(private readonly input: Uint8Array) {}

  bits(n: number): number {
    while (this.held < n) {
      if (this.pos >= this.input.length) throw new Error('kiln: compressed header is truncated');
      this.acc |= this.input[this.pos++]! << this.held;
      this.held += 8;
    }
    const v = this.acc & ((1 << n) - 1);
    this.acc >>>= n;
    this.held -= n;
    return v;
  }

  /** Drops the bits left in the current byte (the reader never holds a whole unread byte between reads). */
  alignToByte(): void {
    this.acc = 0;
    this.held = 0;
  }

  byte(): number {
    if (this.pos >= this.input.length) throw new Error('kiln: compressed header is truncated');
    return this.input[this.pos++]!;
  }

  decode(h: Huffman): number {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len < 16; len++) {
      code |= this.bits(1);
      const count = h.counts[len]!;
      if (code - first < count) return h.symbols[index + code - first]!;
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new Error('kiln: compressed header holds an invalid Huffman code');
  }
}

let fixedCodes: [Huffman, Huffman] | undefined;

function fixedHuffman(): [Huffman, Huffman] {
  if (!fixedCodes) {
    const lit = new Uint8Array(288);
    lit.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
    fixedCodes = [buildHuffman(lit, 'fixed literal'), buildHuffman(new Uint8Array(30).fill(5), 'fixed distance')];
  }
  return fixedCodes;
}

function readDynamic(r: BitReader): [Huffman, Huffman] {
  const nlit = r.bits(5) + 257;
  const ndist = r.bits(5) + 1;
  const ncode = r.bits(4) + 4;
  if (nlit > 286 || ndist > 30) throw new Error(`kiln: compressed header: ${nlit} literal or ${ndist} distance codes are too many`);
  const cl = new Uint8Array(19);
  for (let i = 0; i < ncode; i++) cl[CL_ORDER[i]!] = r.bits(3);
  const clCode = buildHuffman(cl, 'code-length');
  const lengths = new Uint8Array(nlit + ndist);
  for (let i = 0; i < lengths.length;) {
    const sym = r.decode(clCode);
    if (sym < 16) {
      lengths[i++] = sym;
      continue;
    }
    let value = 0;
    let repeat: number;
    if (sym === 16) {
      if (i === 0) throw new Error('kiln: compressed header repeats a code length before the first one');
      value = lengths[i - 1]!;
      repeat = 3 + r.bits(2);
    } else repeat = sym === 17 ? 3 + r.bits(3) : 11 + r.bits(7);
    if (i + repeat > lengths.length) throw new Error('kiln: compressed header code lengths run past their count');
    lengths.fill(value, i, i + repeat);
    i += repeat;
  }
  if (lengths[256] === 0) throw new Error('kiln: compressed header block has no end-of-block code');
  return [buildHuffman(lengths.subarray(0, nlit), 'literal'), buildHuffman(lengths.subarray(nlit), 'distance')];
}

/** Decompresses a raw DEFLATE stream that must produce exactly `expectedLength` bytes. */
export function inflateRaw(input: Uint8Array, expectedLength: number): Uint8Array {
  const out = new Uint8Array(expectedLength);
  const tooLong = () => new Error(`kiln: compressed header expands past its declared ${expectedLength} bytes`);
  const r = new BitReader(input);
  let n = 0;
  let final = 0;
  while (!final) {
    final = r.bits(1);
    const type = r.bits(2);
    if (type === 0) {
      r.alignToByte();
      const len = r.byte() | (r.byte() << 8);
      const nlen = r.byte() | (r.byte() << 8);
      if ((len ^ 0xffff) !== nlen) throw new Error('kiln: compressed header has a stored block with a corrupt length');
      if (n + len > expectedLength) throw tooLong();
      for (let i = 0; i < len; i++) out[n++] = r.byte();
      continue;
    }
    if (type === 3) throw new Error('kiln: compressed header has an invalid block type');
    const [lit, dist] = type === 1 ? fixedHuffman() : readDynamic(r);
    for (;;) {
      const sym = r.decode(lit);
      if (sym < 256) {
        if (n >= expectedLength) throw tooLong();
        out[n++] = sym;
        continue;
      }
      if (sym === 256) break;
      const l = sym - 257;
      if (l >= 29) throw new Error(`kiln: compressed header has an invalid length code ${sym}`);
      const length = LEN_BASE[l]! + r.bits(LEN_EXTRA[l]!);
      const d = r.decode(dist);
      if (d >= 30) throw new Error(`kiln: compressed header has an invalid distance code ${d}`);
      const distance = DIST_BASE[d]! + r.bits(DIST_EXTRA[d]!);
      if (distance > n) throw new Error(`kiln: compressed header refers ${distance} bytes back, before its start`);
      if (n + length > expectedLength) throw tooLong();
      for (let i = 0; i < length; i++, n++) out[n] = out[n - distance]!;
    }
  }
  if (n !== expectedLength) throw new Error(`kiln: compressed header expands to ${n} bytes, but ${expectedLength} were declared`);
  return out;
}
