import { writeFileSync } from 'node:fs';
import { setBackend } from '@rnnkit/ops';
import { RECIPES, runTask, taskItems } from '/work/main/apps/examples/dist/index.js';

await setBackend('wasm');
const [task, maxTokens, minFreq, cell, emb, hid] = process.argv.slice(2);
const recipe = {
  ...RECIPES[task],
  epochs: 0,
  maxTokens: +maxTokens,
  minFreq: +minFreq,
  cell,
  embeddingDim: +emb,
  hiddenSize: +hid,
};
const { items } = taskItems(task, recipe.maxTokens);
const r = runTask({
  task,
  items,
  recipe,
  seed: 1,
  referee: true,
  samples: { count: 0, temperature: 1, prefix: '' },
});
writeFileSync(
  `/tmp/explore/${task}-${maxTokens}-${minFreq}-${cell}-${emb}-${hid}.safetensors`,
  r.refereeFile,
);
console.log(JSON.stringify(r.summary));
