/**
 * Every problem a user can cause by handing us a file becomes a SpectroscopeError: a code a
 * program can switch on, the file it concerns, and one line a person can act on. The CLI prints
 * `file: message`; the page shows the same text.
 */
export type ErrorCode =
  | 'io'
  | 'header-too-small'
  | 'header-too-large'
  | 'header-length'
  | 'header-utf8'
  | 'header-json'
  | 'header-not-object'
  | 'tensor-entry'
  | 'unknown-dtype'
  | 'bad-shape'
  | 'bad-offsets'
  | 'size-mismatch'
  | 'not-contiguous'
  | 'data-size'
  | 'metadata'
  | 'duplicate-tensor'
  | 'index-json'
  | 'index-missing-shard'
  | 'index-mismatch'
  | 'index-path'
  | 'config-json'
  | 'lfs-pointer'
  | 'pytorch-pickle'
  | 'gguf'
  | 'no-weights'
  | 'quantized'
  | 'non-finite'
  | 'unsupported-dtype'
  | 'not-a-folder'
  | 'usage'
  | 'engine'
  | 'results-json';

export class SpectroscopeError extends Error {
  readonly code: ErrorCode;
  /** File name (relative to the model folder) the problem is in; '' when it is not about one file. */
  readonly file: string;

  constructor(code: ErrorCode, file: string, message: string) {
    super(message);
    this.name = 'SpectroscopeError';
    this.code = code;
    this.file = file;
  }

  /** The one line shown to a person. */
  describe(): string {
    return this.file ? `${this.file}: ${this.message}` : this.message;
  }
}

export function isSpectroscopeError(e: unknown): e is SpectroscopeError {
  return e instanceof SpectroscopeError;
}

/** Strings from a file are shown to people; keep them short and on one line. */
export function quoteForMessage(s: string, max = 80): string {
  // Control characters (newlines, escapes) are replaced so one error stays one line.
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return JSON.stringify(clean.length > max ? clean.slice(0, max) + '…' : clean);
}
