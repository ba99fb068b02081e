import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Replaces the `## <name>` section of docs/benchmarks.md (up to the next `## ` heading) with `body`,
 * creating the file or the section when missing; other sections are left byte for byte.
 */
export function writeBenchmarkSection(file: string, name: string, body: string): void {
  const heading = `## ${name}`;
  const section = `${heading}\n\n${body.trim()}\n`;
  if (!existsSync(file)) {
    writeFileSync(file, `# Benchmarks\n\n${section}`);
    return;
  }
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start === -1) {
    writeFileSync(file, `${text.trimEnd()}\n\n${section}`);
    return;
  }
  let end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  if (end === -1) end = lines.length;
  const after = lines.slice(end).join('\n');
  writeFileSync(
    file,
    [lines.slice(0, start).join('\n'), section, after]
      .filter((p) => p !== '')
      .join('\n')
      .replace(/\n*$/, '\n')
      .replace(/\n{3,}/g, '\n\n'),
  );
}
