export {
  ADDING_BASELINE,
  type AddingBatch,
  addingBatch,
  type GradientFlowOptions,
  type GradientFlowResult,
  gradientFlow,
  gradientVerdict,
  type StepInfo,
  type TrainAddingOptions,
  type TrainAddingResult,
  trainAdding,
} from './adding.js';
export { SequenceRegressor } from './model.js';
export {
  CELL_LABELS,
  CELL_TYPES,
  type CellType,
  checkCell,
  checkInt,
  checkPositive,
} from './options.js';
export { DataRng } from './rng.js';
export {
  type TutorialOptions,
  type TutorialResult,
  type TutorialShapes,
  tutorialExample,
} from './tutorial.js';
