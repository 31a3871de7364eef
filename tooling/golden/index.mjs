// @rnnkit/golden: the committed PyTorch fixtures (fixtures.mjs), the parity runner over the module
// kinds (parity.mjs), the checks of the other groups (checks/) and the suite that maps every
// fixture to its check (suite.mjs), which the unit tests and the harness share.
export { disposeState, trainedSeq2Seq } from './checks/decode.mjs';
export { gradGrad } from './checks/train.mjs';
export { compare, FIXTURES, listFixtures, readFixture } from './fixtures.mjs';
export { adapters, checkFixture, runFixture } from './parity.mjs';
export { allFixtures, CHECKS, check, checkOf, tolerance } from './suite.mjs';
