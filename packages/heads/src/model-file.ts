import {
  loadSafetensors,
  ModelFileError,
  Module,
  safetensorsMetadata,
  saveSafetensors,
} from '@rnnkit/ops';
import { describeFile, describeValue, MODEL_CONFIG_KEY } from '@rnnkit/ops/internal';
import * as tf from '@tensorflow/tfjs-core';
import { MODEL_CLASSES } from './model-classes.js';

/** The model file format this version writes and the newest it reads. */
export const MODEL_FORMAT = 1;

/** What `rnnkit.config` holds: the class, its constructor options, and its children's (for other tools). */
export interface ModelConfig {
  /** The model-file format version (MODEL_FORMAT). */
  format: number;
  /** The public class the file rebuilds, e.g. `"SequenceEncoder"`. */
  class: string;
  /** The constructor's options, as a JSON object. */
  options: Record<string, unknown>;
  /** The configs of child modules that are not rebuilt from the options, by key prefix. */
  children?: Record<string, Omit<ModelConfig, 'format'>>;
}

/** JSON with object keys sorted, to compare configs written by other tools. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

function classOf(m: Module): string | undefined {
  return Object.keys(MODEL_CLASSES).find((name) => MODEL_CLASSES[name].ctor === m.constructor);
}

/** { class, options, children } of a module and, recursively, of its public-class children. */
function describe(m: Module): Omit<ModelConfig, 'format'> {
  const name = classOf(m) as string;
  const children: Record<string, Omit<ModelConfig, 'format'>> = {};
  for (const [key, child] of Object.entries(m)) {
    if (child instanceof Module && classOf(child) !== undefined) children[key] = describe(child);
  }
  const out = { class: name, options: JSON.parse(JSON.stringify(MODEL_CLASSES[name].options(m))) };
  return Object.keys(children).length ? { ...out, children } : out;
}

/**
 * A model file: the module's state dict as safetensors, with `__metadata__["rnnkit.config"]` =
 * JSON { format: 1, class, options, children }, so `loadModel` rebuilds it without code. Works for
 * every public module class (Linear, Embedding, Dropout, the cells, ElmanRNN, RNN/LSTM/GRU,
 * AttentionPooling, SequenceEncoder, SequenceTagger); python/rnnkit_torch.py reads and writes it.
 * `metadata`: more `__metadata__` entries to store beside it (a vocabulary, labels; read them back
 * with safetensorsMetadata).
 */
export function saveModel(module: Module, metadata: Record<string, string> = {}): Uint8Array {
  if (!(module instanceof Module)) {
    throw new TypeError(
      `saveModel(module): expected an rnnkit Module, got ${describeValue(module)}`,
    );
  }
  if (classOf(module) === undefined) {
    throw new ModelFileError(
      `saveModel(module): ${module.constructor.name} is not a public rnnkit class (${Object.keys(MODEL_CLASSES).join(', ')}); save its weights with saveSafetensors(module.stateDict())`,
    );
  }
  if (Object.hasOwn(metadata, MODEL_CONFIG_KEY)) {
    throw new TypeError(
      `saveModel(metadata): "${MODEL_CONFIG_KEY}" is written by saveModel itself`,
    );
  }
  const config: ModelConfig = { format: MODEL_FORMAT, ...describe(module) };
  const sd = module.stateDict();
  try {
    return saveSafetensors(sd, { ...metadata, [MODEL_CONFIG_KEY]: JSON.stringify(config) });
  } finally {
    tf.dispose(Object.values(sd));
  }
}

function fail(msg: string): never {
  throw new ModelFileError(`loadModel(bytes): ${msg}`);
}

function readConfig(bytes: Uint8Array): ModelConfig {
  let meta: Record<string, string> | null = null;
  try {
    meta = safetensorsMetadata(bytes);
  } catch {
    // not safetensors: say below what it is
  }
  if (meta === null || !Object.hasOwn(meta, MODEL_CONFIG_KEY)) {
    const { kind, description } = describeFile('loadModel', bytes);
    const hint =
      kind === 'torch-zip' || kind === 'torch-legacy'
        ? '; read its tensors with loadTorchCheckpoint from @rnnkit/ops, or convert the module with save_for_rnnkit in python/rnnkit_torch.py'
        : kind === 'safetensors'
          ? '; load it with loadSafetensors and module.loadStateDict'
          : '';
    fail(
      `this is ${description}; expected an rnnkit model file (safetensors with ${MODEL_CONFIG_KEY}, from saveModel)${hint}`,
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(meta[MODEL_CONFIG_KEY]);
  } catch (e) {
    fail(`${MODEL_CONFIG_KEY} is not valid JSON (${(e as Error).message})`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    fail(`${MODEL_CONFIG_KEY} must be a JSON object, got ${describeValue(config)}`);
  }
  const c = config as Record<string, unknown>;
  if (!Number.isInteger(c.format) || (c.format as number) < 1) {
    fail(`${MODEL_CONFIG_KEY}.format must be a positive integer, got ${describeValue(c.format)}`);
  }
  if ((c.format as number) > MODEL_FORMAT) {
    fail(
      `the file has model format ${c.format}, newer than format ${MODEL_FORMAT} that this version of @rnnkit/heads reads; upgrade @rnnkit/heads`,
    );
  }
  if (typeof c.class !== 'string' || !Object.hasOwn(MODEL_CLASSES, c.class)) {
    fail(
      `unknown class ${describeValue(c.class)}; this version knows ${Object.keys(MODEL_CLASSES).join(', ')}`,
    );
  }
  if (c.options === null || typeof c.options !== 'object' || Array.isArray(c.options)) {
    fail(`${MODEL_CONFIG_KEY}.options must be an object, got ${describeValue(c.options)}`);
  }
  return c as unknown as ModelConfig;
}

/**
 * Rebuilds the module a model file describes (see saveModel) and loads its weights (strict: the
 * keys and shapes must match exactly). Building it draws initial weights from rnnkit's random
 * stream (manualSeed) before they are replaced, as constructing the module by hand would. Not a model file, an unknown class, a newer format, options
 * the class rejects, or weights that do not fit: ModelFileError saying which; nothing leaks.
 */
export function loadModel(bytes: Uint8Array): Module {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`loadModel(bytes): expected a Uint8Array, got ${describeValue(bytes)}`);
  }
  const config = readConfig(bytes);
  let module: Module;
  try {
    module = MODEL_CLASSES[config.class].build({ ...config.options });
  } catch (e) {
    return fail(`${config.class} rejected the file's options: ${(e as Error).message}`);
  }
  try {
    const rebuilt = describe(module);
    if (config.children && canonical(rebuilt.children) !== canonical(config.children)) {
      fail(
        `the file's children do not match what ${config.class} builds from its options (${canonical(config.children)} vs ${canonical(rebuilt.children)})`,
      );
    }
    const sd = loadSafetensors(bytes);
    try {
      module.loadStateDict(sd);
    } catch (e) {
      fail(`the weights do not fit ${config.class}: ${(e as Error).message}`);
    } finally {
      tf.dispose(Object.values(sd));
    }
  } catch (e) {
    module.dispose();
    throw e;
  }
  return module;
}
