import { DEMO_USAGE, runDemo } from './demo.command';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe('npm run demo (options)', () => {
  it('documents every option under --help', async () => {
    const { out, output } = capture();
    expect(await runDemo(['--help'], output, {})).toBe(0);
    for (const option of [
      '--rate',
      '--duration',
      '--drain',
      '--events-url',
      '--crud-url',
      '--token',
      '--help',
    ]) {
      expect(out.join('\n')).toContain(option);
    }
  });

  it.each([
    [['--rate', '0'], /--rate must be a number > 0/],
    [['--duration', 'soon'], /--duration must be a number > 0/],
    [['--drain=-1'], /--drain must be a number >= 0/],
    [['--events-url', 'nowhere'], /--events-url must be a URL/],
    [['--colour'], /Unknown option '--colour'/],
  ])('refuses %j with exit code 2, naming the option', async (argv, message) => {
    const { err, output } = capture();
    expect(await runDemo(argv, output, {})).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it('says where it looked when the system is not running', async () => {
    const { err, output } = capture();
    expect(await runDemo(['--crud-url', 'http://127.0.0.1:9'], output, {})).toBe(1);
    expect(err.join('\n')).toMatch(/cannot reach the crud app at http:\/\/127.0.0.1:9/);
    expect(DEMO_USAGE).toMatch(/SIM_SPEED=10 npm start/);
  });
});
