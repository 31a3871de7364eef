import type { Tensor } from '@tensorflow/tfjs-core';

export declare const FIXTURES: string;
export declare function listFixtures(group: string): string[];
export declare function readFixture(group: string, name: string): Uint8Array;
export declare function compare(actual: Tensor, expected: Tensor): { abs: number; rel: number };

export interface Adapter {
  /** The module for a fixture config, or null for a kind without parameters (`pool`). */
  build(config: any): any;
  run(module: any, inputs: Record<string, Tensor>, config: any): Record<string, Tensor>;
}
/** Adapters for the kinds whose class (or function, for `pool`) is in `classes`. */
export declare function adapters(classes: Record<string, any>): Record<string, Adapter>;
export interface FixtureResult {
  forward: number;
  forwardAt: string;
  grad: number;
  gradAt: string;
  outputs: Record<string, number[]>;
}
export declare function runFixture(
  tensors: Record<string, Tensor>,
  config: any,
  adapter: Adapter,
): FixtureResult;
export declare function checkFixture(
  group: string,
  name: string,
  kinds: Record<string, Adapter>,
  codec: {
    loadSafetensors(bytes: Uint8Array): Record<string, Tensor>;
    safetensorsMetadata(bytes: Uint8Array): Record<string, string>;
  },
): FixtureResult & { kind: string; leaked: number };

export interface Codec {
  loadSafetensors(bytes: Uint8Array): Record<string, Tensor>;
  safetensorsMetadata(bytes: Uint8Array): Record<string, string>;
}
export interface CheckResult {
  forward: number;
  forwardAt: string;
  grad: number;
  gradAt: string;
}
export interface Tolerance {
  forward: number;
  grad: number;
}
export declare const CHECKS: Record<
  string,
  { run(fixture: any, api: any): CheckResult; tol: Tolerance }
>;
/** The check of a fixture: a name of CHECKS, else its module kind. */
export declare function checkOf(group: string, name: string, config: any): string;
export declare function tolerance(check: string): Tolerance;
/** Every committed fixture as [group, name] (torch: file names with their extension). */
export declare function allFixtures(): Array<[string, string]>;
/** Runs one fixture through its check with the rnnkit API by name. */
export declare function check(
  group: string,
  name: string,
  api: Record<string, any>,
  codec: Codec,
): CheckResult & { check: string; leaked: number; ok: boolean };
/** Second derivatives of a gradgrad_* fixture's tensors `t` through `module` (output y(module, x)). */
export declare function gradGrad(
  module: any,
  y: (module: any, x: Tensor) => Tensor,
  t: Record<string, Tensor>,
): CheckResult & { y: number; penalty: number };
/** A decode_* fixture's trained model and the Python decodes. */
export declare function trainedSeq2Seq(
  fixture: { t: Record<string, Tensor>; config: any },
  api: Record<string, any>,
): {
  m: any;
  decodes: Record<string, any>;
  bos: number;
  eos: number;
  rows(run: string): number[][];
  scores(run: string): number[];
  encode(): any;
};
export declare function disposeState(state: any): void;
