// The G2P model file and what reads it: word -> pronunciations. Browser-safe.
import {
  beamSearch,
  greedyDecode,
  type Hypothesis,
  Seq2Seq,
  type Seq2SeqOptions,
} from '@rnnkit/heads';
import { loadSafetensors, safetensorsMetadata, saveSafetensors } from '@rnnkit/ops';
import * as tf from '@tensorflow/tfjs-core';
import { G2pVocab } from './data.js';
import { MAX_PHONEMES } from './train.js';

export const G2P_FORMAT = 'rnnkit-examples-g2p/1';

/** A model file: Seq2Seq's state dict (PyTorch keys) + config and both vocabularies in the metadata. */
export function encodeG2pModel(
  model: Seq2Seq,
  config: Seq2SeqOptions,
  vocab: G2pVocab,
): Uint8Array {
  const sd = model.stateDict();
  try {
    return saveSafetensors(sd, {
      format: G2P_FORMAT,
      task: 'g2p',
      config: JSON.stringify(config),
      graphemes: JSON.stringify(vocab.graphemes),
      phonemes: JSON.stringify(vocab.phonemes),
    });
  } finally {
    tf.dispose(Object.values(sd));
  }
}

/** True when the bytes are a G2P model file (by its metadata). */
export function isG2pModel(bytes: Uint8Array): boolean {
  try {
    return safetensorsMetadata(bytes).format === G2P_FORMAT;
  } catch {
    return false;
  }
}

/** One word's result: the best pronunciation and, with beam search, every hypothesis. */
export interface Pronunciation {
  word: string;
  phonemes: string[];
  score: number;
  hypotheses: Array<{ phonemes: string[]; score: number; logProb: number }>;
  /** [phonemes + eos][letters]: the greedy decoder's attention (with `attention: true`). */
  attention?: number[][];
}

/** Reads a G2P model file and pronounces words (greedy or beam search). */
export class Pronouncer {
  readonly model: Seq2Seq;
  readonly vocab: G2pVocab;
  readonly config: Seq2SeqOptions;

  constructor(bytes: Uint8Array) {
    const meta = safetensorsMetadata(bytes);
    if (meta.format !== G2P_FORMAT) {
      throw new TypeError(
        `not a G2P model file: expected metadata format "${G2P_FORMAT}", got ${meta.format === undefined ? 'none' : `"${meta.format}"`}`,
      );
    }
    this.config = JSON.parse(meta.config) as Seq2SeqOptions;
    this.vocab = new G2pVocab(JSON.parse(meta.graphemes), JSON.parse(meta.phonemes));
    const sd = loadSafetensors(bytes);
    this.model = new Seq2Seq(this.config);
    try {
      this.model.loadStateDict(sd);
    } catch (e) {
      this.model.dispose();
      throw e;
    } finally {
      tf.dispose(Object.values(sd));
    }
    this.model.eval();
  }

  /**
   * Words (letters, apostrophe, period, hyphen; any case) -> pronunciations. beam 1 is greedy;
   * `attention` adds the greedy decoder's attention weights per word.
   */
  pronounce(words: string[], opts: { beam?: number; attention?: boolean } = {}): Pronunciation[] {
    const beam = opts.beam ?? 1;
    const ids = words.map((w) => this.vocab.encodeWord(w.trim()));
    const empty = ids.findIndex((w) => w.length === 0);
    if (empty >= 0) throw new RangeError(`pronounce(words): word ${empty} is empty`);
    const S = Math.max(...ids.map((w) => w.length));
    const flat = new Int32Array(ids.length * S);
    ids.forEach((w, i) => {
      flat.set(w, i * S);
    });
    const src = tf.tensor2d(flat, [ids.length, S], 'int32');
    const state = this.model.encode(
      src,
      ids.map((w) => w.length),
    );
    const d = { maxLength: MAX_PHONEMES, bos: this.vocab.bos, eos: this.vocab.eos };
    try {
      const hyps: Hypothesis[][] =
        beam === 1
          ? (() => {
              const g = greedyDecode(this.model, state, d);
              return g.tokens.map((t, i) => [
                { tokens: t, logProb: g.scores[i], score: g.scores[i] },
              ]);
            })()
          : beamSearch(this.model, state, { ...d, beamSize: beam }).hypotheses;
      return words.map((word, i) => {
        const all = hyps[i].map((h) => ({
          phonemes: this.vocab.decodePron(h.tokens),
          score: h.score,
          logProb: h.logProb,
        }));
        const out: Pronunciation = {
          word,
          phonemes: all[0].phonemes,
          score: all[0].score,
          hypotheses: all,
        };
        if (opts.attention) out.attention = this.alignment(src, i, ids[i].length);
        return out;
      });
    } finally {
      tf.dispose([src, state as unknown as tf.TensorContainer]);
    }
  }

  /** Greedy decoding of row `row` step by step, keeping each step's attention over its letters. */
  private alignment(src: tf.Tensor, row: number, letters: number): number[][] {
    const word = tf.slice(src, [row, 0], [1, letters]);
    const one = this.model.encode(word, [letters]);
    word.dispose();
    const rows: number[][] = [];
    let state = one;
    let last = this.vocab.bos;
    try {
      for (let t = 0; t < MAX_PHONEMES; t++) {
        const r = this.model.step([last], state);
        if (r.attention) rows.push(Array.from(r.attention.dataSync()));
        const logits = r.logits.dataSync();
        last = logits.indexOf(Math.max(...logits));
        tf.dispose([r.logits, r.attention]);
        if (state !== one) tf.dispose([state.h, state.c, state.feed]);
        state = r.state;
        if (last === this.vocab.eos) break;
      }
    } finally {
      if (state !== one) tf.dispose([state.h, state.c, state.feed]);
      tf.dispose(one as unknown as tf.TensorContainer);
    }
    return rows;
  }

  dispose(): void {
    this.model.dispose();
  }
}
