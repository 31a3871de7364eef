export {
  type BeamSearchOptions,
  type BeamSearchResult,
  beamSearch,
  type Hypothesis,
} from './beam.js';
export { greedyDecode } from './greedy.js';
export { type SampleOptions, sample } from './sample.js';
export type { DecodeOptions, DecodeResult, StepModel } from './step-model.js';
