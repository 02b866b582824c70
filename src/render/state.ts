/**
 * The render loop's state: a group per service holding its units (each template, and one env_from unit), and
 * what `tend status` and the control plane read of it.
 */
import type { WatchSpec } from '../kv/index.js';
import type { ServicePlan, TemplatePlan } from '../manifest/types.js';
import type { EnvFromStatus, RenderStatus, TemplateStatus, UnitState } from '../runtime/index.js';
import type { Template } from '../template/index.js';
import type { LongTimer } from '../time/index.js';
import type { Batch } from './actions.js';

// The status shapes are the Runtime's: the control plane reads them through `rt.renderStatus()`.
export type { EnvFromStatus, RenderStatus, TemplateStatus, UnitState };

export interface Problem {
  state: Exclude<UnitState, 'pending' | 'rendered'>;
  reason: string;
  missing?: string[];
  /** cannot get better without editing the template (parse error): a waiting service fails at once */
  fatal?: boolean;
}

interface UnitBase {
  group: Group;
  label: string;
  deps: WatchSpec;
  /** completed at least once in this run: its service may have started on it */
  done: boolean;
  problem?: Problem;
  running: boolean;
  again: boolean;
  /** wait.min and wait.max: a user's durations, so long timers (setTimeout would fire past 24.8 days at once) */
  quiet?: LongTimer;
  cap?: LongTimer;
  retry?: NodeJS.Timeout;
  retries: number;
}

export interface TemplateUnit extends UnitBase {
  kind: 'template';
  /** discovery the last render read: `service:NAME`, `services` */
  discovery: string[];
  plan: TemplatePlan;
  tpl?: Template;
  /** leftovers of a crashed tend next to the destination were removed */
  swept?: boolean;
  renderedAt?: number;
}

export interface EnvUnit extends UnitBase {
  kind: 'env';
  prefixes: string[];
  vars?: Record<string, string>;
}

export type Unit = TemplateUnit | EnvUnit;

export interface Group {
  name: string;
  plan: ServicePlan;
  units: Unit[];
  /** on_change actions waiting for the units to settle */
  batch: Batch;
  /** missing_timeout: a user's duration, so a long timer */
  failTimer?: LongTimer;
  failedByConfig: boolean;
}

/**
 * The unit and its problem in one phrase, for gate and failure reasons: a template error names the template's
 * source and line itself (`template error in templates/x.ctmpl:3: …`), the others follow the unit's label.
 */
export function describeProblem(u: Unit, p: Problem): string {
  return p.state === 'template-error' ? p.reason : `${u.label} ${p.reason}`;
}

/** rendering, or waiting out a quiescence */
export const busy = (u: Unit) => u.running || u.quiet !== undefined || u.cap !== undefined;

export function unitState(u: Unit): UnitState {
  return u.problem?.state ?? (u.done ? 'rendered' : 'pending');
}

export function statusOf(groups: Iterable<Group>): Pick<RenderStatus, 'templates' | 'envFrom'> {
  const templates: TemplateStatus[] = [];
  const envFrom: EnvFromStatus[] = [];
  for (const g of groups) {
    for (const u of g.units) {
      switch (u.kind) {
        case 'template':
          templates.push({
            service: g.name,
            source: u.plan.source,
            destination: u.plan.destination,
            state: unitState(u),
            reason: u.problem?.reason,
            missing: u.problem?.missing,
            renderedAt: u.renderedAt,
            // what its last render read: the keys, and the prefixes as `prefix:PATH` (never a value)
            keys: [...u.deps.keys].sort().concat([...u.deps.prefixes].sort().map((p) => `prefix:${p}`)),
          });
          break;
        case 'env':
          envFrom.push({
            service: g.name,
            prefixes: u.prefixes,
            state: unitState(u),
            reason: u.problem?.reason,
            names: Object.keys(u.vars ?? {}).sort(),
          });
          break;
        default: {
          const never: never = u;
          throw new Error(`unhandled unit kind ${(never as Unit).kind}`);
        }
      }
    }
  }
  return { templates, envFrom };
}
