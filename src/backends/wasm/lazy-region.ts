// Plans made while the model runs (Loop and Scan bodies, the part of a graph after a node whose
// output shapes only the data can tell) each get a fresh region of the session memory above every
// static plan, so they are written once and never clobber one another or a plan being run. When
// too many accumulate, the executable resets the area between runs and they are made again.
import type { GraphPlan, PlanEnv } from './plan-graph.js';

/** Past this many plans made at run time the area is reset at the start of the next run. */
const LAZY_PLAN_LIMIT = 256;
/** ...or past this many bytes. */
const LAZY_BYTE_LIMIT = 1 << 30;

/** Plans at the top of the area, activates the plan (its region is fresh) and advances the top. */
export function planLazily(env: PlanEnv, make: (base: number) => GraphPlan | undefined): GraphPlan | undefined {
  const plan = make(env.lazyTop);
  if (!plan) return undefined;
  env.lazyTop = plan.end;
  env.lazyCount++;
  plan.activate();
  if (plan.threaded) env.wantsPool = true;
  return plan;
}

/** Called between runs: drops every plan made at run time when there are too many. */
export function trimLazyArea(env: PlanEnv): void {
  if (env.lazyCount > LAZY_PLAN_LIMIT || env.lazyTop - env.lazyBase > LAZY_BYTE_LIMIT) resetLazyArea(env, env.lazyBase);
}

/** Starts the area at `base` (after a static plan grew past it); every cached lazy plan is dropped. */
export function resetLazyArea(env: PlanEnv, base: number): void {
  env.lazyBase = base;
  env.lazyTop = base;
  env.lazyCount = 0;
  env.lazyEpoch++;
}

/** Plans made at run time for one site, by key; forgotten when the area is reset. */
export class LazyCache {
  private readonly plans = new Map<string, GraphPlan | undefined>();
  private epoch = -1;

  get(env: PlanEnv, key: string, make: () => GraphPlan | undefined): GraphPlan | undefined {
    if (this.epoch !== env.lazyEpoch) {
      this.plans.clear();
      this.epoch = env.lazyEpoch;
    }
    if (this.plans.has(key)) return this.plans.get(key);
    const plan = make();
    this.plans.set(key, plan);
    return plan;
  }
}
