/**
 * Delayed-drop flattening, the tables (docs/architecture.md, "Science definitions as implemented",
 * "Flattening"): one `flattening` row per continuation of each drop family (what the family's `continue`
 * task measured, with λ at L* as a fraction of 2/η_lo and whether the verdict can use it), one
 * `drop_families` row per family and seed (its settings, its status and the counts the claims report).
 */
import type { TableRow } from '@lrscape/artifacts';
import type { FamilyRecord } from '@lrscape/train';

/** A drop family's settings as the config gives them (the analysis ones, pinnedRatio and controlMargin, included). */
export interface DropFamilySettings {
  name: string;
  /** Where it is configured, e.g. `dropFamilies.0`. */
  field: string;
  parentEta: number;
  controlEta: number;
  etaLow: number;
  matchedLoss: number;
  maxSteps: number;
  /** λ(L*)/(2/η_lo) above this: the continuation sits at the edge of stability of η_lo (pinned), left out of the verdict. */
  pinnedRatio: number;
  /** The control’s slope of λ(L*)·η_lo/2 per 1000 steps must lie within ±controlMargin of 0. */
  controlMargin: number;
}

export interface DropFamilyInput {
  settings: DropFamilySettings;
  /** The family's continue tasks' outputs (continuations.json), one per seed. */
  records: readonly FamilyRecord[];
}

type FlatteningRow = TableRow<'flattening'>;
type DropFamilyRow = TableRow<'drop_families'>;

/** Why a continuation is or is not in the verdict. */
function useOf(c: FamilyRecord['continuations'][number], ratio: number | null, pinnedRatio: number): FlatteningRow['use'] {
  if (c.matched === null) return c.status === 'diverged' ? 'diverged' : 'capped';
  // L* already met at the switch: λ there is the source run's, not the continuation's.
  if (c.matched.step === c.step) return 'below-at-switch';
  return ratio !== null && ratio > pinnedRatio ? 'pinned' : 'used';
}

export function flatteningTables(families: readonly DropFamilyInput[]): { flattening: FlatteningRow[]; drop_families: DropFamilyRow[] } {
  const flattening: FlatteningRow[] = [];
  const dropFamilies: DropFamilyRow[] = [];
  for (const { settings, records } of families) {
    const rows = records.flatMap((r) => r.continuations).map((c): FlatteningRow => {
      const ratio = c.matched ? c.matched.sharpness / (2 / settings.etaLow) : null;
      return {
        family: settings.name,
        run: c.id,
        source: c.source,
        role: c.role,
        seed: c.seed,
        kind: c.kind,
        instability: c.instability,
        t_switch: c.step,
        instabilities_before: c.instabilitiesBefore,
        eta_high: c.etaHigh,
        eta_low: settings.etaLow,
        loss_at_switch: c.lossAtSwitch,
        matched_loss: settings.matchedLoss,
        step_matched: c.matched?.step ?? null,
        sharpness_matched: c.matched?.sharpness ?? null,
        ratio_matched: ratio,
        test_loss_matched: c.matched?.testLoss ?? null,
        sharpness_converged: c.sharpnessConverged,
        max_sharpness: c.maxSharpness,
        steps: c.steps,
        status: c.status,
        use: useOf(c, ratio, settings.pinnedRatio),
      };
    });
    flattening.push(...rows);
    for (const seed of records.flatMap((r) => r.seeds)) {
      const own = rows.filter((r) => r.seed === seed.seed);
      const count = (use: FlatteningRow['use']) => own.filter((r) => r.use === use).length;
      dropFamilies.push({
        family: settings.name,
        field: settings.field,
        seed: seed.seed,
        parent: seed.parent,
        control: seed.control,
        eta_parent: settings.parentEta,
        eta_control: settings.controlEta,
        eta_low: settings.etaLow,
        matched_loss: settings.matchedLoss,
        max_steps: settings.maxSteps,
        pinned_ratio: settings.pinnedRatio,
        control_margin: settings.controlMargin,
        status: seed.status,
        reason: seed.reason,
        parent_instabilities: seed.parentInstabilities,
        control_instabilities: seed.controlInstabilities,
        paired: seed.paired.length,
        continuations: own.length,
        reached: own.filter((r) => r.step_matched !== null).length,
        capped: count('capped'),
        diverged: count('diverged'),
        pinned: count('pinned'),
      });
    }
  }
  return { flattening, drop_families: dropFamilies };
}
