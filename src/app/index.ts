export { describeEvent } from '../events/index.js';
export { EXIT, type Module, type Runtime, type ServiceHooksFactory, StartError } from '../runtime/index.js';
export { runForeground } from './run.js';
export {
  actOnSignal,
  HANDLED_SIGNALS,
  handleSignals,
  mergeHooks,
  type Running,
  startUp,
  type UpOptions,
} from './up.js';
