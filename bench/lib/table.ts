/** Plain-text tables for the terminal, and the same rows as Markdown for docs/performance.md. */

export type Row = Record<string, string>;

export function textTable(rows: readonly Row[], columns?: readonly string[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = columns ?? Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const right = cols.map((c) => rows.every((r) => /^[-–0-9.,×%+ ]*( ?(ms|MB|\/s|s|×|%))?$/.test(r[c] ?? '')));
  const line = (vals: string[]): string => vals.map((v, i) => (right[i] ? v.padStart(width[i]!) : v.padEnd(width[i]!))).join('  ').trimEnd();
  return [line([...cols]), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => r[c] ?? '')))].join('\n');
}

export function markdownTable(rows: readonly Row[], columns?: readonly string[]): string {
  if (rows.length === 0) return '_(no rows)_';
  const cols = columns ?? Object.keys(rows[0]!);
  const right = cols.map((c) => rows.every((r) => /^[-–0-9.,×%+ ]*( ?(ms|MB|\/s|s|×|%))?$/.test(r[c] ?? '')));
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${cols.map(esc).join(' | ')} |`,
    `|${right.map((r) => (r ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${cols.map((c) => esc(r[c] ?? '')).join(' | ')} |`),
  ].join('\n');
}
