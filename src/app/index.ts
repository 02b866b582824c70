export {
  type Attachment,
  describeEvent,
  EXIT,
  handleSignals,
  mergeHooks,
  type Running,
  type Runtime,
  type ServiceHooksFactory,
  StartError,
  startUp,
  type UpOptions,
} from './up.js';
