export { learningRateAt, peakLearningRate, type LearningRateSchedule } from './schedule';
export {
  trainFullBatchGD,
  type CheckpointReason,
  type EventCheckpointOptions,
  type ResumeState,
  type SharpnessMethod,
  type StepRecord,
  type TrainableObjective,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
} from './gradient-descent';
export { checkpointFileName, readCheckpoint, writeCheckpoint, type CheckpointMetadata } from './checkpoint';
