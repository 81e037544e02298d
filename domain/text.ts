/** Tab, line feed, carriage return: allowed only in the few fields that hold PEM or similar. */
const LINE_CHARACTERS = new Set([0x09, 0x0a, 0x0d]);

const isControl = (c: number): boolean => c < 0x20 || c === 0x7f;

/**
 * Whether `s` holds a C0 control character or DEL. Nothing Rotor accepts as a name, reason or
 * filter may hold them: PostgreSQL refuses a NUL in text, and the rest corrupt logs, audit rows
 * and terminals. The API, the workflows and the activities all ask this one question.
 */
export function hasControlCharacter(s: string, allowLines = false): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isControl(c) && !(allowLines && LINE_CHARACTERS.has(c))) return true;
  }
  return false;
}

/** `s` with every control character replaced by U+FFFD, for text that must be stored anyway. */
export function withoutControlCharacters(s: string): string {
  let out = '';
  for (const ch of s) out += isControl(ch.charCodeAt(0)) ? '\ufffd' : ch;
  return out;
}

/**
 * A UTF-16 surrogate without its partner (JSON may carry one, as `"\ud800"`): no character at
 * all. PostgreSQL refuses it in jsonb (a 500, or an activity failing on every attempt), and a
 * text column stores U+FFFD instead, so a hash taken before the write no longer matches. With
 * the `u` flag a paired surrogate is one code point, so only lone ones match.
 */
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const LONE_SURROGATES = /[\ud800-\udfff]/gu;

/** Whether `s` holds a lone surrogate (is not well-formed Unicode). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/** `s` with every lone surrogate replaced by U+FFFD, as PostgreSQL's text columns store it. */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATES, '\ufffd');
}

/** `value` as JSON, every string in it well-formed: what a jsonb column will take. */
export function wellFormedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? wellFormed(v) : v));
}
