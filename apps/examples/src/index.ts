export * from './browser.js';
export { main } from './cli.js';
export { loadEmails, loadNames, taskItems } from './data.js';
export * from './models.js';
export * from './run.js';
export * from './split.js';
export * from './tasks.js';
export * from './text.js';
export * from './train.js';
