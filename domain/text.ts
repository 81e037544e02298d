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
