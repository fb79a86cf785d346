// Prints what decides the tfjs backend on this machine (an Nx runtime input of every compute task),
// without loading tfjs: the requested backend, which native engines are installed, and whether a GPU is visible.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const require = createRequire(import.meta.url);
const installed = (name) => {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
};
console.log(
  JSON.stringify({
    requested: process.env.LRSCAPE_BACKEND ?? 'auto',
    tfjsNodeGpu: installed('@tensorflow/tfjs-node-gpu'),
    tfjsNode: installed('@tensorflow/tfjs-node'),
    cudaDevice: existsSync('/dev/nvidiactl'),
  }),
);
