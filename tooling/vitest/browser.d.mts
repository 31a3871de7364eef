import type { Browser } from 'playwright-core';

export declare const ISOLATION: Record<string, string>;
export declare function serveStatic(
  root: string,
  opts?: { isolate?: boolean },
): Promise<{ url: string; close(): Promise<void> }>;
export declare const CHROMIUM: string;
export declare function launch(): Promise<Browser>;
