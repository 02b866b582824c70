export {
  type AppEnvSource,
  appEnv,
  type ServiceEnvLayers,
  type ServiceEnvSource,
  serviceEnv,
  tendVars,
} from './env.js';
export { type Effect, type Input, initialModel, type Model, restartsOf, transition } from './machine.js';
export { createServiceRunner, type ServiceHooks, type ServiceRunner, type ServiceStatus } from './service.js';
export { argvOf, exitStatus, groupAlive, signalGroup, spawnService } from './spawn.js';
export { createStack, type Stack, type StackEnd, type StackOptions } from './stack.js';
