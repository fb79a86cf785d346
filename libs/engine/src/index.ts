export { selectBackend, type BackendName } from './backend';
export {
  ACTIVATIONS,
  LOSSES,
  POOLINGS,
  initMlpParameters,
  initModelParameters,
  isCnnSpec,
  lastLayersBlock,
  mlpLayout,
  modelDims,
  modelLayout,
  type Activation,
  type CnnSpec,
  type ConvSpec,
  type LossKind,
  type MlpSpec,
  type ModelSpec,
  type ParameterLayout,
  type ParameterSlot,
  type Pooling,
} from './layout';
export { MlpObjective, ModelObjective, resolveWorkers, type Batch, type CurvatureState, type Evaluation, type ObjectiveOptions } from './objective';
export {
  referenceGradient,
  referenceHessian,
  referenceLoss,
  referenceModelGradient,
  referenceModelHessian,
  referenceModelHessianVector,
  referenceModelLoss,
} from './reference';
