export { SettingsError, type SettingsIssue } from './errors.js';
export { type LoadedSettings, type LoadSettingsOptions, loadSettings } from './load.js';
export { getPath } from './path.js';
export { writeSettingsFile } from './write.js';
