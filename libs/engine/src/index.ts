export { activeBackend, engineLabel, selectBackend, WEBGPU_MIN_WORK, type BackendName, type Workload } from './backend';
export { probeWebgpu, webgpuAdapter, webgpuFailure, type WebgpuAdapterInfo, type WebgpuProbe } from './webgpu';
export { kernelStatus, nativeThreads, useKernels, type KernelRequest, type KernelStatus } from './native/kernels';
export { nativeVectorKernels, type VectorKernels } from './native/linalg';
export {
  ACTIVATIONS,
  ATTENTION_READOUTS,
  LOSSES,
  POOLINGS,
  fullScope,
  initMlpParameters,
  initModelParameters,
  isAttentionSpec,
  isCnnSpec,
  lastLayersScope,
  mlpLayout,
  modelDims,
  modelLayout,
  modelScopes,
  type Activation,
  type AttentionReadout,
  type AttentionSpec,
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
