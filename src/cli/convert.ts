// `kiln convert IN OUT`: between ONNX and Kiln's own format, in either direction; the output's
// extension (.onnx or .kiln) or --to picks the format. The whole file is built in memory first and
// written under a temporary name that is renamed into place, so a refused model (an op ONNX
// cannot express) or a failed write leaves nothing at OUT.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyGraph } from '../graph/verify.js';
import { saveKiln } from '../io/kiln-format/index.js';
import { saveOnnx } from '../io/onnx/export.js';
import { parseModel } from '../runtime/load.js';

export const CONVERT_USAGE = `kiln convert <in.onnx|in.kiln> <out.kiln|out.onnx> [--to kiln|onnx]
  save a model in Kiln's own format, or as standard ONNX (QDQ form for quantized models)`;

export type ModelFormat = 'onnx' | 'kiln';

function formatOf(path: string, to: string | undefined): ModelFormat {
  if (to !== undefined) {
    if (to !== 'onnx' && to !== 'kiln') throw new Error(`--to must be onnx or kiln, got '${to}'`);
    return to;
  }
  if (/\.onnx$/i.test(path)) return 'onnx';
  if (/\.kiln$/i.test(path)) return 'kiln';
  throw new Error(`kiln convert: cannot tell the output format from '${path}': name it .onnx or .kiln, or pass --to onnx|kiln`);
}

/** Writes `bytes` to `path` all at once or not at all. */
export function writeWhole(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.partial`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function convertCommand(argv: readonly string[], log = console.log): number {
  const { values: o, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { to: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (o.help) { log(CONVERT_USAGE); return 0; }
  const [src, dst, ...extra] = positionals;
  if (!src || !dst) throw new Error(`kiln convert needs an input and an output path\n\n${CONVERT_USAGE}`);
  if (extra.length) throw new Error(`kiln convert: unexpected argument '${extra[0]}'`);
  const format = formatOf(dst, o.to);
  let input: Uint8Array;
  try {
    input = readFileSync(src);
  } catch (e) {
    throw new Error(`cannot read model file '${src}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const graph = parseModel(input);
  verifyGraph(graph);
  const bytes = format === 'onnx' ? saveOnnx(graph) : saveKiln(graph);
  writeWhole(dst, bytes);
  log(`wrote ${dst} (${bytes.length} bytes, ${format === 'onnx' ? 'ONNX' : 'Kiln format'})`);
  return 0;
}
