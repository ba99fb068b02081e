import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pageDirCandidates, PageFiles } from './page-files';

describe('PageFiles', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'page-files-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves only the files the build wrote, with their types', () => {
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
    writeFileSync(path.join(dir, 'assets/index-abc.js'), 'console.log(1)');
    writeFileSync(path.join(dir, 'secret.txt'), 'no');
    const sut = new PageFiles([dir]);
    expect(sut.index()?.type).toBe('text/html; charset=utf-8');
    expect(sut.asset('index-abc.js')?.body.toString()).toBe('console.log(1)');
    expect(sut.asset('index-abc.js')?.type).toBe('text/javascript; charset=utf-8');
    expect(sut.asset('../secret.txt')).toBeUndefined();
    expect(sut.asset('../index.html')).toBeUndefined();
  });

  it('finds a page built after it was first asked', () => {
    const sut = new PageFiles([path.join(dir, 'missing'), dir]);
    expect(sut.index()).toBeUndefined();
    writeFileSync(path.join(dir, 'index.html'), 'built');
    expect(sut.index()?.body.toString()).toBe('built');
  });

  it('looks in dist/live-page from source and from the compiled app', () => {
    const fromSource = pageDirCandidates(undefined, '/repo/apps/notifications/src/live-page');
    const compiled = pageDirCandidates(undefined, '/repo/dist/apps/notifications/src/live-page');
    expect(fromSource[0]).toBe('/repo/dist/live-page');
    expect(compiled[1]).toBe('/repo/dist/live-page');
    expect(pageDirCandidates('/srv/page', '/anywhere')).toEqual(['/srv/page']);
  });
});
