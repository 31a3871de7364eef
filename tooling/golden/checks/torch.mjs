// loadTorchCheckpoint on the files PyTorch 1.13 wrote (group torch, torch_checkpoints.py).
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { FIXTURES } from '../fixtures.mjs';
import { errors } from './errors.mjs';

/** The bytes of fixtures/torch/<file>. */
export const torchFile = (file) => new Uint8Array(readFileSync(`${FIXTURES}torch/${file}`));

/** What loadTorchCheckpoint threw (or null), leaving nothing behind either way. */
function thrown(load, bytes) {
  try {
    tf.dispose(Object.values(load(bytes)));
    return null;
  } catch (e) {
    return e;
  }
}

/**
 * One file of the group: `NAME.pt` must give every tensor of `NAME.safetensors` by dotted key,
 * bit for bit, in the dtype rnnkit maps the torch dtype to (float32, int32, bool); a
 * `hostile_*.pt` must be refused with a PickleSecurityError naming the global of `hostile_*.json`;
 * `not_a_checkpoint.onnx` must be refused with a ModelFileError saying it is an ONNX model.
 */
export function torchCheckpoint({ name, codec }, api) {
  const e = errors();
  const bytes = torchFile(name);
  if (name.startsWith('hostile_')) {
    const { refused } = JSON.parse(
      new TextDecoder().decode(torchFile(name.replace(/\.pt$/, '.json'))),
    );
    const err = thrown(api.loadTorchCheckpoint, bytes);
    if (!(err instanceof api.PickleSecurityError) || err.global !== refused)
      throw new Error(`expected a PickleSecurityError refusing ${refused}, got ${err}`);
    return e.result;
  }
  if (name.endsWith('.onnx')) {
    const err = thrown(api.loadTorchCheckpoint, bytes);
    if (!(err instanceof api.ModelFileError) || !err.message.includes('this is an ONNX model'))
      throw new Error(`expected a ModelFileError saying "this is an ONNX model", got ${err}`);
    return e.result;
  }
  const ref = torchFile(name.replace(/\.pt$/, '.safetensors'));
  const dtypes = JSON.parse(codec.safetensorsMetadata(ref).dtypes);
  const want = codec.loadSafetensors(ref);
  const got = api.loadTorchCheckpoint(bytes);
  try {
    e.same('keys', Object.keys(got).sort(), Object.keys(want).sort());
    for (const [k, t] of Object.entries(got)) {
      const d = dtypes[k];
      const dtype =
        d === 'bool' ? 'bool' : d.startsWith('float') || d === 'bfloat16' ? 'float32' : 'int32';
      if (t.dtype !== dtype)
        throw new Error(`${k}: dtype ${t.dtype}, expected ${dtype} (torch ${d})`);
      e.same(`${k} shape`, t.shape, want[k].shape);
      // bit-exact: PyTorch widened or rounded float16/bfloat16/float64 to float32 the same way
      e.same(k, t.dataSync(), want[k].dataSync());
    }
  } finally {
    tf.dispose([...Object.values(got), ...Object.values(want)]);
  }
  return e.result;
}
