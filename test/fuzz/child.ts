// Child process of the fuzz pool: loads the seeds once, then runs the cases the parent sends,
// one at a time, and answers each with its outcome. The parent kills and replaces it on a hang.
import { runCase } from './execute.js';
import type { Plan } from './plans.js';
import { loadSeeds } from './seeds.js';

const seeds = loadSeeds();
process.on('message', (msg: { id: number; plan: Plan }) => {
  void runCase(msg.plan, seeds).then(
    (outcome) => process.send!({ id: msg.id, outcome }),
    (e: unknown) => process.send!({ id: msg.id, outcome: { stage: 'compare', kind: 'finding', cls: 'harness', message: String(e) } }),
  );
});
// An exception escaping a case (a rejected promise nobody awaited, a throw in a callback) would
// otherwise end the process silently; report it as a crash of the case in flight.
process.on('uncaughtException', (e) => {
  process.send!({ id: -1, outcome: { stage: 'compare', kind: 'finding', cls: 'uncaught', message: String(e).slice(0, 300) } });
  process.exit(70);
});
process.on('unhandledRejection', (e) => {
  process.send!({ id: -1, outcome: { stage: 'compare', kind: 'finding', cls: 'uncaught', message: String(e).slice(0, 300) } });
  process.exit(70);
});
process.send!({ ready: seeds.length });
