// Types of slowLink.mjs for the TypeScript tests that import it.
export declare const BURST_BYTES: number;
export declare function parseLink(spec: string | undefined): { bitsPerSecond: number; rttMs: number };
export interface SlowLink {
  port: number;
  url: string;
  bitsPerSecond: number;
  rttMs: number;
  stats(): { connections: number; upBytes: number; downBytes: number };
  close(): Promise<void>;
}
export declare function startSlowLink(o: { target: { host?: string; port: number }; bitsPerSecond: number; rttMs: number }): Promise<SlowLink>;
