// `kiln optimize --prune / --cluster` in process (as bin/kiln.mjs runs it): the written model's
// per-layer zeros, channel counts and codebooks exactly, the printed sparse layouts agreeing with
// what the file stores, the combination with --quantize, and a clear error with nothing written
// for each kind of bad input. mnist-8's prunable layers: Convolution28 (Parameter5, 8x1x5x5),
// Convolution110 (Parameter87, 16x8x5x5) and Times212 (Parameter193_reshape1, 256x10).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/backends/wasm/index.js';
import { optimizeCommand } from '../../src/cli/optimize.js';
import { weightLayers } from '../../src/cli/weight-layout.js';
import type { Graph } from '../../src/graph/ir.js';
import { loadKiln } from '../../src/io/kiln-format/index.js';
import { clusteredWeights } from '../../src/passes/cluster/cluster-weights.js';

const MODEL = join(import.meta.dirname, '../../assets/mnist-8.onnx');
const dir = mkdtempSync(join(tmpdir(), 'kiln-optimize-prune-'));

async function run(...args: string[]): Promise<string> {
  const lines: string[] = [];
  expect(await optimizeCommand([...args, '--quiet'], (s: string) => lines.push(s))).toBe(0);
  return lines.join('\n');
}

const load = (path: string): Graph => loadKiln(new Uint8Array(readFileSync(path)));

/** [layer, weight dims, zeros] of every weight layer. */
const zeros = (g: Graph) => weightLayers(g).map((l) => [l.layer, l.dims.join('x'), l.zeros]);

/** The table row whose first cell is `name`. */
function row(log: string, name: string): string[] {
  const line = log.split('\n').find((l) => l.startsWith(`${name}  `));
  expect(line, `row '${name}' in\n${log}`).toBeDefined();
  return line!.slice(name.length).trim().split(/\s{2,}/);
}

describe('kiln optimize --prune / --cluster', () => {
  it('global 50% then k=16: exact zeros per layer, 16-value codebooks, the file 5x smaller, accuracy in the table', { timeout: 120_000 }, async () => {
    const out = join(dir, 'm8-p50-k16.kiln');
    const log = await run(MODEL, '-o', out, '--prune', '0.5', '--cluster', '16', '--eval-data', 'mnist-test:300', '--eval-labels', 'mnist-test:300');
    const g = load(out);
    // One threshold over all 5960 weights: round(0.5 * 5960) = 2980 zeros, most in the larger layers.
    expect(zeros(g)).toEqual([['Convolution28', '8x1x5x5', 41], ['Convolution110', '16x8x5x5', 1735], ['Times212', '256x10', 1204]]);
    // The first Conv is below 25% zeros: clustered whole (200 indices); the others only their nonzeros.
    expect(clusteredWeights(g).map((c) => [c.name, c.k, c.groups, c.nnz])).toEqual([
      ['Parameter87', 16, 1, 3200 - 1735], ['Parameter5', 16, 1, 200], ['Parameter193_reshape1', 16, 1, 2560 - 1204],
    ]);
    for (const name of ['Parameter87', 'Parameter5', 'Parameter193_reshape1']) {
      expect(new Set(g.initializers.get(name)!.data as Float32Array).size).toBeLessThanOrEqual(17); // 16 values (+ the pruned zeros)
    }
    expect(g.provenance.map((p) => p.pass).slice(-2)).toEqual(['pruneMagnitude', 'clusterWeights']);
    expect(log).toMatch(/^magnitude pruning \(global\): 50\.0% of the prunable weights are 0$/m);
    expect(log).toMatch(/^ {2}Convolution110\s+54\.2% zeros$/m);
    // The clustered Gemm weight is offered a sparse layout too (it keeps its codebook either way);
    // at 47% zeros on a 10x256 weight only the dense kernel is a candidate.
    expect(log).toMatch(/^sparse layouts \(wasm kernels, .*\):\n {2}Times212\s+Gemm\s+10x256 batch 1\s+47\.0% zeros -> dense \(dense [\d.]+\)$/m);
    const bytes = Number(/wrote .* \((\d+) bytes\)/.exec(log)![1]);
    expect(bytes).toBe(readFileSync(out).length);
    const [fileBytes, weightBytes, params, , , , acc, , , sparsity] = row(log, 'pruned 50% global + k16');
    expect([Number(fileBytes), params, sparsity]).toEqual([bytes, '6.0k', '50.0%']);
    // Weight bytes as stored: the three codebooks + indices + positions, and the dense biases and shape.
    const dense = [...g.initializers].filter(([, t]) => !t.clustered).reduce((s, [, t]) => s + t.data.byteLength, 0);
    expect(Number(weightBytes)).toBe(clusteredWeights(g).reduce((s, c) => s + c.storedBytes, 0) + dense);
    expect(Number(row(log, 'float')[0]) / bytes).toBeGreaterThanOrEqual(5);
    expect(row(log, 'float')[9]).toBe('0.0%');
    expect(Number(acc!.replace('%', ''))).toBeGreaterThan(95);
  });

  it('per-layer 75%: every layer loses round(0.75 * size); --keep-dense leaves one untouched', { timeout: 60_000 }, async () => {
    const out = join(dir, 'm8-l75.kiln');
    const log = await run(MODEL, '-o', out, '--prune', '0.75', '--prune-kind', 'layer', '--keep-dense', 'Convolution28');
    expect(zeros(load(out))).toEqual([['Convolution28', '8x1x5x5', 0], ['Convolution110', '16x8x5x5', 2400], ['Times212', '256x10', 1920]]);
    expect(log).toMatch(/^ {2}Convolution28\s+0\.0% zeros \(kept dense\)$/m);
    // The Gemm weight's printed layout is the one the file stores.
    const chosen = /^ {2}Times212\s+Gemm\s+10x256 batch 1\s+75\.0% zeros -> (\S+)\s+\((dense [\d.]+.*)\)$/m.exec(log);
    expect(chosen, log).not.toBeNull();
    const stored = weightLayers(load(out)).find((l) => l.layer === 'Times212')!.layout;
    expect(stored).toBe(chosen![1] === 'bsr' ? 'bsr 1x4' : chosen![1]);
    expect(row(log, 'pruned 75% layer')[9]).toBe(`${((100 * 4320) / 5960).toFixed(1)}%`);
  });

  it('2:4 along the reduction: every group of 4 keeps at most 2; the 25-long first Conv must be kept dense', { timeout: 60_000 }, async () => {
    const out = join(dir, 'm8-24.kiln');
    await expect(optimizeCommand([MODEL, '-o', out, '--prune-kind', '2:4', '--quiet'], () => {}))
      .rejects.toThrow("--prune-kind 2:4 groups 4 consecutive weights along each layer's reduction dimension, which must be a multiple of 4: 'Convolution28' (Conv, weight 'Parameter5' [8, 1, 5, 5]) has Cin/group * kernel = 1 * 5 * 5 = 25. Leave it dense with --keep-dense Convolution28");
    expect(existsSync(out)).toBe(false);
    await run(MODEL, '-o', out, '--prune-kind', '2:4', '--keep-dense', 'Convolution28');
    const g = load(out);
    expect(zeros(g)).toEqual([['Convolution28', '8x1x5x5', 0], ['Convolution110', '16x8x5x5', 1600], ['Times212', '256x10', 1280]]);
    // Groups run along K: Conv filters (200 = 8 * 5 * 5 per output channel), MatMul B's rows.
    const conv = g.initializers.get('Parameter87')!.data as Float32Array;
    for (let i = 0; i < conv.length; i += 4) expect(conv.subarray(i, i + 4).filter((v) => v === 0).length).toBe(2);
    const b = g.initializers.get('Parameter193_reshape1')!.data as Float32Array;
    for (let n = 0; n < 10; n++) {
      for (let k = 0; k < 256; k += 4) expect([0, 1, 2, 3].filter((j) => b[(k + j) * 10 + n] === 0).length).toBe(2);
    }
  });

  it('channel pruning shrinks the graph: half of each Conv\'s filters go, the Gemm loses the matching rows', { timeout: 60_000 }, async () => {
    const out = join(dir, 'm8-ch50.kiln');
    const log = await run(MODEL, '-o', out, '--prune', '0.5', '--prune-kind', 'channel', '--prune-norm', 'l2', '--eval-data', 'mnist-test:100', '--eval-labels', 'mnist-test:100');
    const g = load(out);
    expect(zeros(g)).toEqual([['Convolution28', '4x1x5x5', 0], ['Convolution110', '8x4x5x5', 0], ['Times212', '128x10', 0]]);
    expect(g.provenance.at(-1)!.pass).toBe('pruneStructured');
    expect(log).toContain("channel pruning (l2 norm, 0.5 of each layer's channels):\n  Convolution28: 4 of 8 channels kept\n  Convolution110: 8 of 16 channels kept\n"
      + "  Times212: not pruned (its channels reach the graph output 'Plus214_Output_0')");
    const [, weightBytes, params] = row(log, 'channel-pruned 50% l2');
    // 100 + 4 + 800 + 8 + 1280 + 10 floats, and the two int64 of the Reshape's shape.
    expect([Number(weightBytes), params]).toEqual([4 * 2202 + 16, '2.2k']);
  });

  it('pruned, clustered and quantized: the note says int8 replaces the codebooks; zeros stay zeros in int8', { timeout: 120_000 }, async () => {
    const out = join(dir, 'm8-p50-k16-int8.kiln');
    const log = await run(MODEL, '-o', out, '--prune', '0.5', '--cluster', '16', '--quantize', 'int8', '--calibrate', 'mnist-train:50');
    expect(log).toContain('note: --quantize int8 after --cluster 16 replaces the clustered weights of the quantized layers: they are stored as int8 values (at most 16 distinct per layer), not as 4-bit codebook indices');
    const g = load(out);
    expect(clusteredWeights(g)).toEqual([]);
    expect(weightLayers(g).map((l) => [l.weight, l.dtype, l.zeros])).toEqual([
      ['Parameter5_quantized', 'int8', 41], ['Parameter87_quantized', 'int8', 1735], ['Parameter193_reshape1_quantized', 'int8', 1204],
    ]);
    expect(row(log, 'pruned 50% global + k16')[9]).toBe('50.0%');
    expect(row(log, 'pruned 50% global + k16 + int8')[9]).toBe('50.0%');
    expect(g.provenance.map((p) => p.pass)).toEqual(expect.arrayContaining(['pruneMagnitude', 'clusterWeights', 'quantizeStatic']));
  });

  it('--help lists the flags; ONNX output says the codebooks need .kiln', { timeout: 60_000 }, async () => {
    const help = await run('--help');
    for (const flag of ['--prune P', '--prune-kind global|layer|channel|N:M', '--prune-norm l1|l2', '--keep-dense a,b', '--cluster K', '--cluster-per-channel']) expect(help).toContain(flag);
    const onnx = join(dir, 'm8-k8.onnx');
    expect(await run(MODEL, '-o', onnx, '--cluster', '8')).toContain(`note: ${onnx} is standard ONNX, which stores the clustered weights as plain float32 (the codebook and 3-bit indices need a .kiln file)`);
    expect(existsSync(onnx)).toBe(true);
  });

  it('bad input: a clear error, and nothing written', { timeout: 60_000 }, async () => {
    const out = join(dir, 'never.kiln');
    const bad = async (args: string[], msg: string | RegExp) => {
      await expect(optimizeCommand([MODEL, '-o', out, ...args, '--quiet'], () => {})).rejects.toThrow(msg);
      expect(existsSync(out)).toBe(false);
    };
    await bad(['--prune', '1.5'], "--prune must be a fraction from 0 to 1 (the share of weights set to zero), got '1.5'");
    await bad(['--prune', '-0.1'], "--prune must be a fraction from 0 to 1 (the share of weights set to zero), got '-0.1'");
    await bad(['--prune', 'half'], "--prune must be a fraction from 0 to 1 (the share of weights set to zero), got 'half'");
    await bad(['--cluster', '1'], "--cluster must be a whole number of shared values from 2 to 256 (stored as 1 to 8-bit indices), got '1'");
    await bad(['--cluster', '100000'], "--cluster must be a whole number of shared values from 2 to 256 (stored as 1 to 8-bit indices), got '100000'");
    await bad(['--cluster', '7.5'], /--cluster must be a whole number .* got '7\.5'/);
    await bad(['--prune', '1', '--prune-kind', 'channel'], '--prune 1 with --prune-kind channel would remove every output channel of each layer, leaving nothing to compute; give a fraction below 1');
    await bad(['--prune', '0.5', '--keep-dense', 'Convolution28,conv9'], "--keep-dense: no Conv, ConvTranspose, Gemm or MatMul layer named 'conv9' in " + MODEL + ' (layers: Convolution28, Convolution110, Times212)');
    await bad(['--prune', '0.5', '--prune-norm', 'l2'], '--prune-norm scores whole channels: it applies to --prune-kind channel only (add --prune-kind channel)');
    await bad(['--prune', '0.5', '--prune-kind', 'layer', '--prune-norm', 'l1'], '--prune-norm scores whole channels: it applies to --prune-kind channel only, not layer');
    await bad(['--prune', '0.5', '--prune-kind', 'channel', '--prune-norm', 'l3'], "--prune-norm must be l1 or l2, got 'l3'");
    await bad(['--prune', '0.5', '--prune-kind', 'filters'], "--prune-kind must be global, layer, channel or an N:M pattern such as 2:4, got 'filters'");
    await bad(['--prune-kind', '4:2'], '--prune-kind 4:2: an N:M pattern needs 1 <= N < M <= 256');
    await bad(['--prune-kind', 'layer'], '--prune-kind layer needs --prune P, the fraction to remove');
    await bad(['--prune', '0.3', '--prune-kind', '2:4', '--keep-dense', 'Convolution28'], '--prune-kind 2:4 sets 0.5 of the weights to zero by construction; --prune 0.3 does not apply (leave --prune out)');
    await bad(['--cluster-per-channel'], '--cluster-per-channel needs --cluster K');
    await bad(['--keep-dense', 'Convolution28'], '--keep-dense applies to --prune and --cluster');
  });
});
