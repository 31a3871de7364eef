import type { Tensor } from '@tensorflow/tfjs-core';

export declare function values(t: Tensor): number[];
export declare function maxAbs(t: Tensor): number;
export declare function randn(shape: number[], seed?: number): Tensor;
export declare function maxAbsDiff(a: Tensor, b: Tensor): number;
export declare function expectClose(
  actual: Tensor,
  expected: Tensor,
  tol?: number,
  kind?: 'abs' | 'rel',
): void;
export declare function fixture(
  group: string,
  name: string,
): { t: Record<string, Tensor>; config: any };
export declare function expectEqual(a: Tensor, b: Tensor): void;
export declare function expectNoLeak<T>(fn: () => T, kept?: number): T;
export declare function expectThrows(
  fn: () => unknown,
  cls: new (...args: any[]) => Error,
  parts: string[],
  label?: string,
): Error;
export declare function seeded<M>(seed: number, make: () => M): M;
export declare function paramShapes(m: {
  namedParameters(): Array<[string, { shape: number[] }]>;
}): Array<[string, number[]]>;
export declare function disposeAll(sd: Record<string, Tensor>): void;
export declare function captureIo<E extends object = object>(
  extra?: E,
): { io: { out(t: string): void; err(t: string): void } & E; get(): { out: string; err: string } };
export declare function at(t: Tensor, i: number): Tensor;
export declare function sliceAxis(t: Tensor, axis: number, begin: number, size: number): Tensor;
/** A gradgrad_* fixture's check: worst errors of y (abs), the penalty and the second gradients (rel). */
export declare function checkGradGrad(
  module: any,
  y: (module: any, x: any) => any,
  group: string,
  name: string,
): { y: number; penalty: number; grad: number };
/** Runs a fixture through its tooling/golden check with `api` and asserts it within tolerances, no leak. */
export declare function expectParity(
  group: string,
  name: string,
  api: Record<string, any>,
): { forward: number; forwardAt: string; grad: number; gradAt: string; check: string };
