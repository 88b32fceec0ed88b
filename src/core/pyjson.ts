/**
 * JSON as Python's `json` module writes and reads it: `json.dump(obj, f, indent=4)` layout,
 * `repr(float)` numbers, `ensure_ascii` escapes, and the bare `Infinity`/`NaN` tokens that
 * the reference writes for non-finite scores (not valid JSON, so we read them ourselves).
 */

export type PyValue = number | string | boolean | null | PyValue[] | { [key: string]: PyValue } | PyInt;

/** An integer to print without `.0` (Python int rather than float). */
export class PyInt {
  constructor(readonly value: number) {}
}

/** Python's `repr(float)`: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const exp = Number(expStr);
  let body: string;
  if (exp >= -5 && exp < 16) {
    // Python's repr switches to exponent form below 1e-4 (i.e. when exp < -4).
    if (exp < -4) body = sci(digits, exp);
    else if (exp < 0) body = '0.' + '0'.repeat(-exp - 1) + digits;
    else if (digits.length <= exp + 1) body = digits + '0'.repeat(exp + 1 - digits.length) + '.0';
    else body = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  } else body = sci(digits, exp);
  return (neg ? '-' : '') + body;
}

function sci(digits: string, exp: number): string {
  const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  const e = Math.abs(exp);
  return `${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : e}`;
}

/** Python's json string encoding with ensure_ascii=True. */
export function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** `json.dumps(value, indent=4)`. */
export function pyJsonDump(value: PyValue, indent = 4, level = 0): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (value instanceof PyInt) return String(value.value);
  if (typeof value === 'number') return pyFloatRepr(value);
  if (typeof value === 'string') return pyString(value);
  const pad = ' '.repeat(indent * (level + 1));
  const end = ' '.repeat(indent * level);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return '[\n' + value.map((v) => pad + pyJsonDump(v, indent, level + 1)).join(',\n') + '\n' + end + ']';
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return '{\n' + entries.map(([k, v]) => pad + pyString(k) + ': ' + pyJsonDump(v, indent, level + 1)).join(',\n') + '\n' + end + '}';
}

/**
 * Parse JSON that may hold Python's bare `NaN`, `Infinity` and `-Infinity`. Objects keep key
 * order (JS preserves insertion order for non-integer keys; module names are never integers).
 */
export function parsePyJson(text: string): unknown {
  const MARK = '\u0000pyjson:';
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    if (ch === '"') {
      // Copy the string literal verbatim.
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    let tok: string | null = null;
    for (const t of ['-Infinity', 'Infinity', 'NaN']) {
      if (text.startsWith(t, i)) {
        tok = t;
        break;
      }
    }
    if (tok) {
      out += JSON.stringify(MARK + tok);
      i += tok.length;
    } else {
      out += ch;
      i++;
    }
  }
  return JSON.parse(out, (_k, v: unknown) => {
    if (typeof v === 'string' && v.startsWith(MARK)) {
      const t = v.slice(MARK.length);
      return t === 'NaN' ? NaN : t === 'Infinity' ? Infinity : -Infinity;
    }
    return v;
  });
}
