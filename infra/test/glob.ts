/**
 * Glob matching for the path patterns skaffold and .dockerignore use: `*` stays within one path
 * segment, `**` spans any number of them (including none). Enough for the patterns in this repo;
 * character classes and braces are not supported and are rejected rather than misread.
 */
export function globToRegExp(pattern: string): RegExp {
  if (/[[\]{}]/.test(pattern)) throw new Error(`unsupported glob syntax in "${pattern}"`);
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i];
    if (pattern.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else {
      source += char.replace(/[.+^$()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

export function matchesGlob(path: string, pattern: string): boolean {
  return globToRegExp(pattern).test(path);
}

/**
 * Whether a .dockerignore excludes a context path: the last matching pattern wins, `!` re-includes,
 * and excluding a directory excludes everything in it.
 */
export function dockerIgnores(dockerignore: string, path: string): boolean {
  const patterns = dockerignore
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+/, '').replace(/\/+$/, '');
    if (prefixes.some((prefix) => matchesGlob(prefix, pattern))) ignored = !negated;
  }
  return ignored;
}
