import type { Tensor } from '@tensorflow/tfjs-core';

export declare const FIXTURES: string;
export declare function listFixtures(group: string): string[];
export declare function readFixture(group: string, name: string): Uint8Array;
export declare function compare(actual: Tensor, expected: Tensor): { abs: number; rel: number };
