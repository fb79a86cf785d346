export { cumulativeLearningRate, firstStepAtTime, learningRateAt, peakLearningRate, sameLearningRate, scheduleSchema, type LearningRateSchedule } from './schedule';
export { describeDetector, hasRisen, RISE_DETECTOR_KINDS, riseDetectorSchema, riseLevel, type RiseDetector, type RiseDetectorKind } from './rise-rule';
export { criterionMet, stepCap, stopRuleSchema, STOP_REASONS, type StopReason, type StopRule } from './stop-rule';
export {
  CHECKPOINT_REASONS,
  freshEventState,
  gdStep,
  startState,
  trainFullBatchGD,
  type CheckpointEntry,
  type CheckpointReason,
  type EventCheckpointOptions,
  type EventState,
  type ResumeState,
  type SharpnessMethod,
  type StepRecord,
  type TrainableObjective,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  type TrainSettings,
} from './gradient-descent';
export { checkpointFileName, readCheckpoint, writeCheckpoint, type CheckpointMetadata } from './checkpoint';
export { modelSpecSchema, parameterSlotSchema, readRunSummary, RUN_SUMMARY_FILE, runSummarySchema, writeRunSummary, type RunSummary } from './run-summary';
export {
  loadResumePoint,
  RESUME_INDEX_FILE,
  RESUME_SHARPNESS_FILE,
  RESUME_STATE_FILE,
  resumeIndexSchema,
  writeResumePoint,
  type ResumeLookup,
  type ResumeRejection,
} from './resume';
export { acquireRunLock, type RunLock } from './lock';
export { replayTo, replicateInitSeed, stepsRows, trainRun, type TrainRunEvent, type TrainRunOptions, type TrainRunResult } from './train-run';
export {
  CONTINUATION_STATUSES,
  continueFamily,
  eventWindows,
  FAMILY_RECORD_FILE,
  FAMILY_SEED_STATUSES,
  familyRecordSchema,
  planSwitchPoints,
  readFamilyRecord,
  runContinuation,
  runSource,
  SWITCH_KINDS,
  writeFamilyRecord,
  type ContinuationOutcome,
  type ContinuationProgress,
  type ContinuationRecord,
  type ContinuationSettings,
  type ContinuationSource,
  type EventWindow,
  type FamilyEvent,
  type FamilyRecord,
  type FamilySeedRecord,
  type SwitchKind,
  type SwitchPlan,
  type SwitchPlanOptions,
  type SwitchPoint,
} from './continuation';
export { describeIssue, parseWith, readJsonFile } from './json-file';
