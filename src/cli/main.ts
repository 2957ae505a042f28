// The `kiln` command. With no arguments it runs the main job on the bundled default.
import { readFileSync, writeFileSync } from 'node:fs';
import type { BackendName } from '../backends/backend.js';
import { saveKiln } from '../io/kiln-format/index.js';
import { parseModel } from '../runtime/load.js';
import { verifyGraph } from '../graph/verify.js';
import '../ops/index.js';
import { flagString, parseArgs } from './args.js';
import { runMnistDemo } from './demo.js';
import { inspectGraph } from './inspect.js';
import { runModel } from './run.js';
import { convertCommand } from './convert.js';
import { evalCommand, EVAL_USAGE } from './eval.js';
import { optimizeCommand, OPTIMIZE_USAGE } from './optimize.js';
import { runStory } from './story.js';

const USAGE = `kiln — shrink and run neural networks on the web platform

usage:
  kiln [story] [--report FILE] [--limit N] mnist-8 made smaller: every quantization, scored on the
                                           MNIST test set, with an HTML report (the default job)
  kiln demo [--backend B] [--limit N]      run float mnist-8 over the bundled MNIST test set
  kiln run <model> [--backend B] [--dim N=4] [--runs K]
                                           run an ONNX or .kiln model on generated inputs
  kiln inspect <model>                     ops, parameters, bytes, FLOPs, dtypes
  kiln convert <in> <out.kiln|out.onnx>    save a model in Kiln's own format or as standard ONNX
backends: auto (default), reference, wasm, webgpu

${OPTIMIZE_USAGE}

${EVAL_USAGE}`;

function backendOf(v: string | undefined): BackendName | 'auto' {
  const b = v ?? 'auto';
  if (!['auto', 'reference', 'wasm', 'webgpu'].includes(b)) throw new Error(`unknown backend '${b}'`);
  return b as BackendName | 'auto';
}

function positiveInt(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${what} must be a positive integer, got '${v}'`);
  return n;
}

export async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'convert') return convertCommand(argv.slice(1));
  // The optimization commands parse their own flags (node:util parseArgs).
  if (argv[0] === 'optimize') return optimizeCommand(argv.slice(1));
  if (argv[0] === 'eval') return evalCommand(argv.slice(1));
  const args = parseArgs(argv, ['help', 'quiet']);
  const [cmd = 'story', ...rest] = args.positional;
  if (args.flags.has('help') || cmd === 'help') { console.log(USAGE); return 0; }
  const backend = backendOf(flagString(args, 'backend'));
  switch (cmd) {
    case 'story': {
      await runStory({ report: flagString(args, 'report') ?? 'kiln-report.html', quiet: args.flags.has('quiet'), ...(args.flags.has('limit') ? { limit: positiveInt(flagString(args, 'limit'), '--limit')! } : {}) });
      return 0;
    }
    case 'demo': {
      await runMnistDemo(backend, positiveInt(flagString(args, 'limit'), '--limit'));
      return 0;
    }
    case 'run': {
      const model = rest[0];
      if (!model) throw new Error('kiln run needs a model path');
      const dims: Record<string, number> = {};
      const d = args.flags.get('dim');
      for (const spec of typeof d === 'string' ? d.split(',') : []) {
        const [k, v] = spec.split('=');
        dims[k!] = positiveInt(v, `--dim ${k}`)!;
      }
      await runModel(model, { backend, dims, runs: positiveInt(flagString(args, 'runs'), '--runs') ?? 1 });
      return 0;
    }
    case 'inspect': {
      if (!rest[0]) throw new Error('kiln inspect needs a model path');
      inspectGraph(parseModel(readFileSync(rest[0])));
      return 0;
    }
    case 'convert': {
      const [src, dst] = rest;
      if (!src || !dst) throw new Error('kiln convert needs an input and an output path');
      const graph = parseModel(readFileSync(src));
      verifyGraph(graph);
      const bytes = saveKiln(graph);
      writeFileSync(dst, bytes);
      console.log(`wrote ${dst} (${bytes.length} bytes)`);
      return 0;
    }
    default:
      console.error(`unknown command '${cmd}'\n\n${USAGE}`);
      return 2;
  }
}
