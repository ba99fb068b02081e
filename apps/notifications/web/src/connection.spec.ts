import { ConnectionView, nextView, settle } from './connection';

describe('the connection indicator', () => {
  it('goes live, then reconnecting on a drop, then resumed, then live again', () => {
    const seen: string[] = [];
    let view: ConnectionView = { indicator: 'connecting', resumes: 0 };
    for (const [state, code] of [
      ['connecting'],
      ['connected'],
      ['reconnecting', 1006],
      ['reconnecting', 1006],
      ['connected'],
    ] as const) {
      view = nextView(view, state, code);
      seen.push(view.indicator);
    }
    expect(seen).toEqual(['connecting', 'live', 'reconnecting', 'reconnecting', 'resumed']);
    expect(view).toMatchObject({ resumes: 1, lastCode: 1006 });
    expect(settle(view).indicator).toBe('live');
  });
});
