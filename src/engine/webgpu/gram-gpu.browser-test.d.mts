import type { BandReport } from './band-gpu.harness.js';
import type { HarnessReport, TimingResult } from './gram-gpu.harness.js';

export declare const DEFAULT_CHROMIUM: string;
export declare const LIMITS: { gram: number; sigma: number; score: number; selfTest: number; band: number };
export type BrowserReport = HarnessReport & { timing?: { adapter: string; timings: TimingResult[] }; timingError?: string; band?: BandReport };
export declare function runGramBrowserTests(options?: {
  chromiumPath?: string;
  gpu?: boolean;
  timing?: [number, number][];
  timeoutMs?: number;
  log?: (line: string) => void;
}): Promise<BrowserReport>;
export declare function checkReport(report: BrowserReport): string[];
export declare function formatReport(report: BrowserReport): string;
