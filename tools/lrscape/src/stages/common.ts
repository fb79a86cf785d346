/**
 * What every stage script shares: the workspace paths (docs/architecture.md, "The task graph"), loading the
 * experiment, provenance for table metadata, and turning any error into one clear line and a non-zero exit.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TableMetadata } from '@lrscape/artifacts';
import type { ModelSpec } from '@lrscape/engine';
import { findRun, loadExperiment, stageProvenance, type Experiment, type ModelConfig, type RunSpec } from '../experiment-config';

export const workspaceRoot = process.env.LRSCAPE_WORKSPACE ?? process.cwd();

export function experimentPaths(name: string) {
  const base = join(workspaceRoot, 'artifacts', name);
  return {
    base,
    data: join(base, 'data'),
    run: (slug: string) => join(base, 'runs', slug),
    /** Work in progress of an interrupted train task (outside Nx outputs, so cache restores leave it). */
    resume: (slug: string) => join(base, 'resume', slug),
    hessian: (slug: string) => join(base, 'hessian', slug),
    tables: join(base, 'tables'),
    /** A drop family's continuations from one seed (its `continue` task). */
    continuations: (family: string, seed: number) => join(base, 'continuations', family, `s${seed}`),
    /** The cooling stage's tables (the experiment's cooling.runs). */
    cooling: join(base, 'cooling'),
    claims: join(base, 'claims'),
    report: join(workspaceRoot, 'reports', name),
  };
}

export function experimentFile(name: string): string {
  return join(workspaceRoot, 'pipelines', name, 'experiment.json');
}

export function loadStageExperiment(name: string | undefined): Experiment {
  if (!name) throw new Error('usage: <stage> <experiment> [run]');
  return loadExperiment(experimentFile(name));
}

export function loadStageRun(experiment: Experiment, slug: string | undefined): RunSpec {
  if (!slug) throw new Error(`usage: <stage> ${experiment.name} <run>`);
  return findRun(experiment, slug);
}

export function codeVersion(): string {
  const pkg = JSON.parse(readFileSync(join(workspaceRoot, 'package.json'), 'utf8')) as { version: string };
  return `lrscape@${pkg.version}`;
}

/**
 * Schema metadata of a table a stage writes: the experiment, code version, backend, and the hash of every
 * config slice the table depends on (its task's and every upstream one, as the Nx cache key sees them).
 */
export function tableMetadata(experiment: Experiment, stage: Parameters<typeof stageProvenance>[1], backend: string, run?: RunSpec): TableMetadata {
  return { experiment: experiment.name, code_version: codeVersion(), backend, ...stageProvenance(experiment, stage, run) };
}

/** Runs a stage's main; an error becomes `lrscape <stage>: <message>` on stderr and exit code 1. */
export function runStage(stage: string, main: (args: string[]) => Promise<void>): void {
  const started = Date.now();
  // Tests count which tasks really executed (a cache hit replays output but runs nothing).
  if (process.env.LRSCAPE_TASK_LOG) appendFileSync(process.env.LRSCAPE_TASK_LOG, `${[stage, ...process.argv.slice(2)].join(' ')}\n`);
  main(process.argv.slice(2)).then(
    () => {
      console.log(`lrscape ${stage}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    (error: unknown) => {
      console.error(`lrscape ${stage}: ${error instanceof Error ? error.message : String(error)}`);
      if (process.env.LRSCAPE_DEBUG && error instanceof Error) console.error(error.stack);
      process.exit(1);
    },
  );
}

export const formatSeconds = (s: number) => (s < 90 ? `${s.toFixed(0)}s` : `${(s / 60).toFixed(1)}min`);

/** The engine's model spec for a config's model section and the dataset it is trained on. */
export function modelSpecOf(experiment: Experiment, data: { inputDim: number; outputDim: number }): ModelSpec {
  const model: ModelConfig = experiment.config.model;
  if (model.kind === 'mlp') {
    return { inputDim: data.inputDim, hidden: model.hidden, outputDim: data.outputDim, activation: model.activation, loss: model.loss };
  }
  if (model.kind === 'attention') {
    if (model.sequenceLength !== data.inputDim) {
      throw new Error(`${experiment.file}: field \`model.sequenceLength\`: ${model.sequenceLength}, the dataset's sequences have ${data.inputDim} tokens`);
    }
    const { kind, sequenceLength, vocabulary, width, heads, blocks, readout, dense, activation, loss } = model;
    return { kind, sequenceLength, vocabulary, width, heads, blocks, readout, dense, outputDim: data.outputDim, activation, loss };
  }
  const [h, w, c] = model.inputShape;
  if (h * w * c !== data.inputDim) {
    throw new Error(`${experiment.file}: field \`model.inputShape\`: [${model.inputShape}] holds ${h * w * c} values, the dataset's inputs have ${data.inputDim}`);
  }
  const { kind, inputShape, inputLayout, conv, pool, dense, activation, loss } = model;
  return { kind, inputShape, inputLayout, conv, pool, dense, outputDim: data.outputDim, activation, loss };
}
