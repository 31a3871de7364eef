export { CASES, type Got, type ShapeCase } from './cases.js';
export { type CaseResult, fmtGot, runShapeCases, selected } from './runner.js';
