import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { blockedAncestor } from './postgres-server';

describe('blockedAncestor', () => {
  const stranger = { uid: 54321, gid: 54321 };
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'choreo-reach-'));
    mkdirSync(path.join(root, 'a/b'), { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('names the first directory another user cannot search', () => {
    chmodSync(root, 0o755);
    chmodSync(path.join(root, 'a'), 0o700);
    expect(blockedAncestor(path.join(root, 'a/b/data'), stranger)).toBe(path.join(root, 'a'));
  });

  it('finds nothing when every directory on the way is searchable', () => {
    chmodSync(root, 0o755);
    chmodSync(path.join(root, 'a'), 0o711);
    expect(blockedAncestor(path.join(root, 'a/b/data'), stranger)).toBeUndefined();
  });

  it('checks nothing when PostgreSQL runs as this user', () => {
    chmodSync(root, 0o700);
    expect(blockedAncestor(path.join(root, 'a/b/data'), {})).toBeUndefined();
  });
});
