// Deno entry: `deno run --allow-read test/hosts/deno-main.ts <model>` prints the smoke results as JSON.
import { runSmoke } from './smoke.ts';

declare const Deno: { args: string[]; readFile(p: string): Promise<Uint8Array> };
const model = await Deno.readFile(Deno.args[0]!);
console.log(JSON.stringify(await runSmoke(model, ['reference', 'wasm'])));
