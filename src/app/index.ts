export {
  type Attachment,
  describeEvent,
  EXIT,
  handleSignals,
  type Running,
  type Runtime,
  StartError,
  startUp,
  type UpOptions,
} from './up.js';
