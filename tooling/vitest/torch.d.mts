type Bytes = Uint8Array;

export declare function torchFixture(name: string): Bytes;
export declare const op: {
  raw(...b: number[]): Bytes;
  proto(v?: number): Bytes;
  stop(): Bytes;
  mark(): Bytes;
  tuple(): Bytes;
  emptyDict(): Bytes;
  emptyList(): Bytes;
  emptyTuple(): Bytes;
  setitem(): Bytes;
  setitems(): Bytes;
  append(): Bytes;
  reduce(): Bytes;
  binpersid(): Bytes;
  none(): Bytes;
  false(): Bytes;
  dup(): Bytes;
  int(v: number): Bytes;
  str(s: string): Bytes;
  global(module: string, name: string): Bytes;
  binput(k: number): Bytes;
  binget(k: number): Bytes;
};
export declare function concat(...parts: Bytes[]): Bytes;
export declare function tupleOf(values: number[]): Bytes;
export declare function tensorPickle(
  type: string,
  key: string,
  numel: number,
  offset: number,
  size: number[],
  stride: number[],
): Bytes;
export declare function dictPickle(items: Record<string, Bytes>): Bytes;
export declare function zipCheckpoint(
  pickle: Bytes,
  storages: Record<string, Bytes>,
  level?: 0 | 6,
): Bytes;
export declare function f32(values: number[]): Bytes;
