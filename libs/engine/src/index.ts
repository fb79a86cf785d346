export { activeBackend, engineLabel, selectBackend, type BackendName } from './backend';
export { kernelStatus, nativeThreads, useKernels, type KernelRequest, type KernelStatus } from './native/kernels';
export { nativeVectorKernels, type VectorKernels } from './native/linalg';
export {
  ACTIVATIONS,
  LOSSES,
  POOLINGS,
  fullScope,
  initMlpParameters,
  initModelParameters,
  isCnnSpec,
  lastLayersScope,
  mlpLayout,
  modelDims,
  modelLayout,
  modelScopes,
  type Activation,
  type CnnSpec,
  type ConvSpec,
  type LossKind,
  type MlpSpec,
  type ModelSpec,
  type ParameterLayer,
  type ParameterLayout,
  type ParameterSlot,
  type Pooling,
  type Scope,
} from './layout';
export { MlpObjective, ModelObjective, resolveWorkers, type Batch, type Curvature, type Evaluation, type ObjectiveOptions } from './objective';
export {
  referenceGradient,
  referenceHessian,
  referenceLoss,
  referenceModelGradient,
  referenceModelHessian,
  referenceModelHessianVector,
  referenceModelLoss,
} from './reference';
