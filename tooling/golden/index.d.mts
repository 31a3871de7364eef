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
