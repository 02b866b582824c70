export {
  type AppEnvSource,
  appEnv,
  type ServiceEnvLayers,
  type ServiceEnvSource,
  serviceEnv,
  tendVars,
} from './env.js';
export {
  awaitsNewConfig,
  type ConfigChange,
  type Effect,
  type Input,
  initialModel,
  type Model,
  restartsOf,
  transition,
} from './machine.js';
export { createServiceRunner, type ServiceHooks, type ServiceRunner, type ServiceStatus } from './service.js';
export {
  argvOf,
  execScript,
  exitStatus,
  groupAlive,
  signalGroup,
  spawnService,
  userRefusal,
} from './spawn.js';
export { type ConfigOutcome, createStack, type Stack, type StackEnd, type StackOptions } from './stack.js';
export {
  describeNotReady,
  type Gate,
  type GateKind,
  gateKind,
  hasEndedForGood,
  hasFailed,
  hasProcessState,
  isGivenUp,
  isLive,
  isPending,
  isReady,
  isRunning,
  isServing,
  isSettled,
  isSteady,
  isTransient,
  isWaiting,
  type StateOf,
  type Waiting,
  waitingFor,
} from './state.js';
