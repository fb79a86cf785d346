export * from './dataset';
export * from './wreg';
export * from './src';
export * from './split';
export * from './io';
export * from './build';
