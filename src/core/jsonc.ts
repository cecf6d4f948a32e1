/**
 * JSON with comments and trailing commas, as VS Code's settings files are written. Used only to
 * see which keys a workspace's `.vscode/settings.json` sets (VS Code itself drops the values of
 * application-scoped settings there, so the extension cannot learn of them otherwise).
 */

/** Parses JSONC; throws SyntaxError like JSON.parse when the text is not valid even then. */
export function parseJsonc(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      // A string: copied as is, escapes included.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      out += ' ';
    } else {
      out += c;
      i++;
    }
  }
  // Trailing commas: a comma followed only by whitespace before } or ].
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}
