import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeBenchmarkSection } from './bench-section';

describe('writeBenchmarkSection', () => {
  const file = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'benchmarks.md');

  it('replaces only its own section and leaves the others byte for byte', () => {
    const target = file();
    writeFileSync(
      target,
      '# Benchmarks\n\n## crud\n\ncrud figures\n\n## streams\n\nold\n\n## orders\n\norders figures\n',
    );
    writeBenchmarkSection(target, 'streams', 'new figures');
    expect(readFileSync(target, 'utf8')).toBe(
      '# Benchmarks\n\n## crud\n\ncrud figures\n\n## streams\n\nnew figures\n\n## orders\n\norders figures\n',
    );
  });

  it('creates the file, or appends the section when missing', () => {
    const target = file();
    writeBenchmarkSection(target, 'streams', 'a');
    expect(readFileSync(target, 'utf8')).toBe('# Benchmarks\n\n## streams\n\na\n');
    writeBenchmarkSection(target, 'cdc', 'b');
    expect(readFileSync(target, 'utf8')).toBe('# Benchmarks\n\n## streams\n\na\n\n## cdc\n\nb\n');
  });
});
