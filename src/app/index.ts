export { describeEvent, EXIT, handleSignals, type Running, startUp, type UpOptions } from './up.js';
