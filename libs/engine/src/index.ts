export { selectBackend, type BackendName } from './backend';
export {
  ACTIVATIONS,
  LOSSES,
  initMlpParameters,
  lastLayersBlock,
  mlpLayout,
  type Activation,
  type LossKind,
  type MlpSpec,
  type ParameterLayout,
  type ParameterSlot,
} from './layout';
export { MlpObjective, type Batch, type CurvatureState, type Evaluation } from './objective';
export { referenceGradient, referenceHessian, referenceLoss } from './reference';
