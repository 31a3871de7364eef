// The safetensors header text as Python's safetensors reads it (serde_json), beyond JSON.parse.

/**
 * What Python's safetensors (serde_json) rejects and JSON.parse takes, found in the header text
 * (valid JSON): a key twice in one object at any depth (JSON.parse silently keeps the last one, so
 * two readers could see different files), a string with a lone surrogate escape such as "\ud800"
 * (not a Rust string), a number with a fraction or an exponent in a tensor's shape or data_offsets
 * (`1.0`: not an integer to serde). Returns the first problem, or null.
 */
export function scanHeader(text: string): string | null {
  // one entry per open bracket: the keys seen so far in an object (null for an array) and the key
  // whose value the bracket opened
  const stack: Array<{ keys: Set<string> | null; key: string | null }> = [];
  let key: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const raw = text.slice(i, j + 1);
      const value = raw.includes('\\u') ? (JSON.parse(raw) as string) : null;
      if (value !== null && /\p{Surrogate}/u.test(value))
        return `header has a string with a lone surrogate escape (${raw.slice(0, 40)}), which is not valid Unicode`;
      const seen = stack[stack.length - 1]?.keys;
      if (seen) {
        let k = j + 1;
        while (k < text.length && /\s/.test(text[k])) k++;
        if (text[k] === ':') {
          key = value ?? (JSON.parse(raw) as string);
          if (seen.has(key)) return `header has the key "${key}" twice`;
          seen.add(key);
        }
      }
      i = j;
    } else if (c === '{' || c === '[') {
      stack.push({ keys: c === '{' ? new Set() : null, key });
      key = null;
    } else if (c === '}' || c === ']') stack.pop();
    else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i;
      while (j < text.length && /[-+.\deE]/.test(text[j])) j++;
      const top = stack[stack.length - 1]!;
      const field = top.key;
      if (
        stack.length === 3 &&
        (field === 'shape' || field === 'data_offsets') &&
        /[.eE]/.test(text.slice(i, j))
      )
        return `tensor "${stack[1]!.key}": ${field} must hold integers written without a fraction or exponent, got ${text.slice(i, j)}`;
      i = j - 1;
    }
  }
  return null;
}
