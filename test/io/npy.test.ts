// The .npy / .npz reader: arrays as NumPy writes them (format 1.0 and 2.0, stored and deflated
// archives), and a clear error naming the file for every malformed or unsupported input.
import { describe, expect, it } from 'vitest';
import { parseNpy, parseNpz } from '../../src/io/npy.js';
import { bytesOf, npy, zip } from '../helpers/npy-build.js';

/** A one-entry archive with its central directory's compressed (offset 20) or uncompressed (24) size replaced. */
function patchDirectory(z: Uint8Array, field: 20 | 24, value: number): Uint8Array {
  const out = z.slice();
  const view = new DataView(out.buffer);
  const cd = view.getUint32(out.length - 22 + 16, true);
  view.setUint32(cd + field, value, true);
  return out;
}

describe('parseNpy', () => {
  it('reads float32, int64 and bool arrays, format 1.0 and 2.0, and 0-d arrays', () => {
    const f = parseNpy(npy('<f4', [2, 3], bytesOf(Float32Array.of(1, 2, 3, 4, 5, 6.5))));
    expect(f.type).toBe('float32');
    expect(f.dims).toEqual([2, 3]);
    expect(Array.from(f.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6.5]);
    const l = parseNpy(npy('<i8', [3], bytesOf(BigInt64Array.of(7n, -1n, 2n ** 40n)), { version: 2 }));
    expect(l.type).toBe('int64');
    expect(Array.from(l.data as BigInt64Array)).toEqual([7n, -1n, 2n ** 40n]);
    const b = parseNpy(npy('|b1', [2], Uint8Array.of(1, 0)));
    expect(b.type).toBe('bool');
    const s = parseNpy(npy('<f8', [], bytesOf(Float64Array.of(3.25))));
    expect(s.dims).toEqual([]);
    expect((s.data as Float64Array)[0]).toBe(3.25);
    // Fortran order of a vector is the same bytes: accepted.
    expect(parseNpy(npy('<f4', [2], bytesOf(Float32Array.of(1, 2)), { fortran: true })).dims).toEqual([2]);
  });

  it('refuses bad magic, a truncated header, and a header that is not a NumPy dict', () => {
    expect(() => parseNpy(new TextEncoder().encode('hello, not numpy at all'), 'x.npy')).toThrow(/x\.npy: not a \.npy file \(bad magic/);
    const ok = npy('<f4', [1], bytesOf(Float32Array.of(1)));
    expect(() => parseNpy(ok.subarray(0, 40), 'x.npy')).toThrow(/x\.npy: header of \d+ bytes runs past the end of the 40-byte file/);
    const v9 = ok.slice();
    v9[6] = 9;
    expect(() => parseNpy(v9, 'x.npy')).toThrow(/unsupported \.npy format version 9\.0/);
    expect(() => parseNpy(npy('', [1], new Uint8Array(4), { header: 'garbage' }), 'x.npy')).toThrow(/x\.npy: header is not a dict/);
    expect(() => parseNpy(npy('', [1], new Uint8Array(4), { header: "{'fortran_order': False, 'shape': (1,), }" }), 'x.npy')).toThrow(/no 'descr' string/);
    expect(() => parseNpy(npy('', [1], new Uint8Array(4), { header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1, x), }" }), 'x.npy')).toThrow(/shape entry 'x' is not a non-negative integer/);
  });

  it('refuses unsupported dtypes and layouts by name, and data that does not match the shape', () => {
    expect(() => parseNpy(npy('>f4', [1], new Uint8Array(4)), 'be.npy')).toThrow(/be\.npy: unsupported dtype '>f4' \(big-endian/);
    expect(() => parseNpy(npy('|O', [1], new Uint8Array(8)), 'o.npy')).toThrow(/unsupported dtype '\|O' \(Python objects\)/);
    expect(() => parseNpy(npy('<c8', [1], new Uint8Array(8)), 'c.npy')).toThrow(/unsupported dtype '<c8'/);
    expect(() => parseNpy(npy('<f4', [2, 2], new Uint8Array(16), { fortran: true }), 'f.npy')).toThrow(/Fortran-order arrays are not supported/);
    expect(() => parseNpy(npy('<f4', [2, 3], new Uint8Array(20)), 'short.npy')).toThrow(/short\.npy: shape \(2, 3\) of <f4 needs 24 data bytes, the file has 20/);
    expect(() => parseNpy(npy('<f4', [2], new Uint8Array(12)), 'long.npy')).toThrow(/needs 8 data bytes, the file has 12/);
  });
});

describe('parseNpz', () => {
  const a = npy('<f4', [2], bytesOf(Float32Array.of(1.5, -2)));
  const b = npy('<i8', [1], bytesOf(BigInt64Array.of(9n)));

  it('reads stored and deflated archives, arrays named without .npy, in order', async () => {
    for (const deflate of [false, true]) {
      const m = await parseNpz(zip([['input.npy', a], ['labels.npy', b]], deflate));
      expect([...m.keys()]).toEqual(['input', 'labels']);
      expect(Array.from(m.get('input')!.data as Float32Array)).toEqual([1.5, -2]);
      expect(Array.from(m.get('labels')!.data as BigInt64Array)).toEqual([9n]);
    }
  });

  it('refuses a non-zip file, a CRC mismatch, and a malformed member, naming the member', async () => {
    await expect(parseNpz(new Uint8Array(100), 'd.npz')).rejects.toThrow(/d\.npz: not a zip archive/);
    await expect(parseNpz(zip([['input.npy', a]], false, true), 'd.npz')).rejects.toThrow(/d\.npz\/input\.npy: CRC-32 mismatch/);
    const broken = a.slice();
    broken[0] = 0;
    await expect(parseNpz(zip([['x.npy', broken]]), 'd.npz')).rejects.toThrow(/d\.npz\/x\.npy: not a \.npy file/);
    const cut = zip([['input.npy', a]]);
    await expect(parseNpz(cut.subarray(0, cut.length - 30), 'd.npz')).rejects.toThrow(/d\.npz: /);
  });

  it('bounds a deflated entry by its directory size: over-long streams, bombs, truncated and corrupt data', async () => {
    const z = zip([['input.npy', a]], true);
    await expect(parseNpz(patchDirectory(z, 24, a.length - 1), 'd.npz')).rejects.toThrow(new RegExp(`d\\.npz/input\\.npy: entry inflates past the ${a.length - 1} bytes the directory says`));
    await expect(parseNpz(patchDirectory(z, 24, a.length + 1), 'd.npz')).rejects.toThrow(new RegExp(`entry inflates to ${a.length} bytes, the directory says ${a.length + 1}`));
    // 16 MiB of float32 zeros deflate to ~16 KiB; a directory claiming 1000 bytes is refused without inflating it all.
    const zeros = npy('<f4', [4 << 20], new Uint8Array(16 << 20));
    const bomb = zip([['big.npy', zeros]], true);
    const before = process.memoryUsage().arrayBuffers;
    await expect(parseNpz(patchDirectory(bomb, 24, 1000), 'd.npz')).rejects.toThrow(/d\.npz\/big\.npy: entry inflates past the 1000 bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 << 20);
    await expect(parseNpz(patchDirectory(z, 24, 0xfffffff0), 'd.npz')).rejects.toThrow(/deflated bytes cannot expand to the 4294967280 bytes the directory says/);
    const comp = new DataView(z.buffer).getUint32(z.length - 22 - 46 - 'input.npy'.length + 20, true);
    await expect(parseNpz(patchDirectory(z, 20, comp >> 1), 'd.npz')).rejects.toThrow(/d\.npz\/input\.npy: corrupt deflate data \(the stream ends early\)/);
    await expect(parseNpz(patchDirectory(patchDirectory(z, 20, 0), 24, 5), 'd.npz')).rejects.toThrow(/d\.npz\/input\.npy: deflated entry is empty/);
    const bad = z.slice();
    bad[30 + 'input.npy'.length] = 0x07; // block type 3 in the first byte of the stream
    await expect(parseNpz(bad, 'd.npz')).rejects.toThrow(/d\.npz\/input\.npy: corrupt deflate data \(invalid block type\)/);
  });
});
