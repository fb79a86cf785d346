/** When a GD run stops: after a fixed step count, or at a loss / gradient-norm criterion with a step cap. */
import { z } from 'zod';

const nonNegativeInt = z.number().int().nonnegative();
const positive = z.number().finite().positive();

export const stopRuleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('steps'), steps: nonNegativeInt }).strict(),
  /** Stops at the first step where loss ≤ `loss` or ‖∇L‖ ≤ `gradNorm` (either given threshold), else at maxSteps. */
  z
    .object({ kind: z.literal('criterion'), maxSteps: nonNegativeInt, loss: positive.optional(), gradNorm: positive.optional() })
    .strict()
    .refine((rule) => rule.loss !== undefined || rule.gradNorm !== undefined, { message: 'a criterion needs `loss` or `gradNorm`' }),
]);

export type StopRule = z.infer<typeof stopRuleSchema>;

/** Why a run ended: its step count ran out, the criterion was met, the criterion's cap was reached, or the loss blew up. */
export type StopReason = 'steps' | 'converged' | 'capped' | 'diverged';
export const STOP_REASONS = ['steps', 'converged', 'capped', 'diverged'] as const satisfies readonly StopReason[];

/** The last step a run may reach. */
export const stepCap = (rule: StopRule): number => (rule.kind === 'steps' ? rule.steps : rule.maxSteps);

/** True when the criterion holds at a step with this loss and gradient norm (never for a step-count rule). */
export function criterionMet(rule: StopRule, loss: number, gradNorm: number | null): boolean {
  if (rule.kind !== 'criterion') return false;
  return (rule.loss !== undefined && loss <= rule.loss) || (rule.gradNorm !== undefined && gradNorm !== null && gradNorm <= rule.gradNorm);
}
