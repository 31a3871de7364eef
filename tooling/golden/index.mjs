// @rnnkit/golden: the committed PyTorch fixtures (fixtures.mjs) and the parity runner over them
// (parity.mjs), which the unit tests and the harness share.
export { compare, FIXTURES, listFixtures, readFixture } from './fixtures.mjs';
export { adapters, checkFixture, runFixture } from './parity.mjs';
