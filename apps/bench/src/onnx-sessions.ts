/** What ONNX Runtime Web (onnx.ts) and onnxruntime-node (onnx-node.ts) are driven by alike. */

/** Sessions cached per key (as promises, so concurrent callers share one), released together. */
export class SessionCache<S extends { release(): Promise<void> }> {
  readonly #sessions = new Map<string, Promise<S>>();

  /** The session under `key`, made by `create` on first use. */
  get(key: string, create: () => Promise<S>): Promise<S> {
    let s = this.#sessions.get(key);
    if (!s) {
      s = create();
      this.#sessions.set(key, s);
    }
    return s;
  }

  async release(): Promise<void> {
    for (const s of this.#sessions.values()) await (await s).release();
    this.#sessions.clear();
  }
}

/** An exported model's session: input "x" [B, T, I], output "y" [B, T, H]. */
interface XySession<X> {
  run(feeds: { x: X }): Promise<{ [name: string]: { data: unknown; dispose(): void } }>;
}

/** Runs the model on x and returns y's data (y's tensor released). */
export async function runOrt<X>(session: XySession<X>, x: X): Promise<Float32Array> {
  const { y } = await session.run({ x });
  const data = y!.data as Float32Array;
  y!.dispose();
  return data;
}
