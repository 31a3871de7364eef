// tfjs-layers calls chained tensor methods (`t.flatten()`, `t.reshape()`, ...), which tfjs-core's
// Node bundle does not register (only the full @tensorflow/tfjs package does), and the file that
// does (dist/public/chained_ops/register_all_chained_ops.js) is extensionless ESM that plain Node
// cannot load. This bundles it into src/vendor/tfjs-chained-ops.js; importing that file adds the
// methods to the global Tensor class, so tfjs-layers runs as it does for a user of @tensorflow/tfjs.
// rnnkit itself uses only functional ops and is unaffected.
//   node scripts/vendor-chained-ops.mjs          write src/vendor/
//   node scripts/vendor-chained-ops.mjs --copy   copy src/vendor/ to dist/vendor/
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { vendorTfjsCore } from '../../../tooling/scripts/vendor-tfjs.mjs';

await vendorTfjsCore({
  pkg: join(dirname(fileURLToPath(import.meta.url)), '..'),
  build,
  name: 'tfjs-chained-ops',
  entry: "import './public/chained_ops/register_all_chained_ops.js';",
  dts: '/** Side effect only: registers tfjs-core chained ops on the global Tensor class. */\nexport {};\n',
});
