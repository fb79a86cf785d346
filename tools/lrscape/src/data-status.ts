/** Whether an experiment's input data is on this machine (synthetic datasets always are). */
import type { Experiment } from './experiment-config';

export interface DataStatus {
  available: boolean;
  reason?: string;
}

export function experimentDataStatus(experiment: Experiment, _workspaceRoot: string): DataStatus {
  switch (experiment.config.dataset.kind) {
    case 'wreg':
    case 'src':
      return { available: true };
  }
}
