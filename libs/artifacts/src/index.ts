export * from './tables';
export * from './arrow-io';
export * from './safetensors';
export * from './manifest';
export * from './atomic';
export * from './hashing';
export * from './scope';
export * from './eigenvectors';
