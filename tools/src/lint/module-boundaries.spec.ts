import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

// ESLint loads its flat config with a dynamic import, which Jest's module sandbox does not allow:
// lint in a plain node process, as `npm run lint` does.
const LINT_SCRIPT = `
const { ESLint } = require('eslint');
const [file, code] = JSON.parse(process.argv[1]);
new ESLint({
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => ruleId === '@nx/enforce-module-boundaries',
})
  .lintText(code, { filePath: file })
  .then(([result]) => process.stdout.write(JSON.stringify(result.messages.map((m) => m.ruleId + ': ' + m.message))));
`;

/** Lints `code` as if it were the file at `file`, with only the module-boundaries rule. */
function boundaryErrors(file: string, code: string): string[] {
  const out = execFileSync(
    process.execPath,
    ['-e', LINT_SCRIPT, JSON.stringify([path.join(root, file), code])],
    {
      cwd: root,
    },
  );
  return JSON.parse(out.toString()) as string[];
}

describe('module boundaries (eslint @nx/enforce-module-boundaries)', () => {
  beforeAll(() => {
    // The rule reads Nx's cached project graph; compute it as `npm run lint` does.
    execFileSync('npx', ['nx', 'show', 'projects'], {
      cwd: root,
      stdio: 'ignore',
      env: { ...process.env, NX_DAEMON: 'false' },
    });
  }, 60_000);

  it('fails an app importing another app', () => {
    const errors = boundaryErrors(
      'apps/events/src/probe.ts',
      "import { crudConfig } from '../../crud/src/config';\nexport const c = crudConfig;\n",
    );
    expect(errors).toEqual([expect.stringMatching(/enforce-module-boundaries/)]);
  });

  it('fails a lib importing an app', () => {
    const errors = boundaryErrors(
      'libs/streams/src/probe.ts',
      "import { eventsConfig } from '../../../apps/events/src/config';\nexport const c = eventsConfig;\n",
    );
    expect(errors).toEqual([expect.stringMatching(/enforce-module-boundaries/)]);
  });

  it('fails contracts importing another lib', () => {
    const errors = boundaryErrors(
      'libs/contracts/src/probe.ts',
      "import { redisConfig } from '@choreo/config';\nexport const c = redisConfig;\n",
    );
    expect(errors).toEqual([expect.stringMatching(/enforce-module-boundaries.*(constraint|tag)/i)]);
  });

  it('lets an app import a lib', () => {
    expect(
      boundaryErrors(
        'apps/events/src/probe.ts',
        "import { redisConfig } from '@choreo/config';\nexport const c = redisConfig;\n",
      ),
    ).toEqual([]);
  });
});
