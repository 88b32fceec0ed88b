export declare const DEFAULT_CHROMIUM: string;
export declare const BASE_ARGS: string[];
export declare const GPU_ARGS: string[];
export declare function bundleForBrowser(entry: string): Promise<string>;
