import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

  it('fails production lib code importing libs/testing, and lets a lib spec use it', () => {
    const code = "import { startRedis } from '@choreo/testing';\nexport const s = startRedis;\n";
    expect(boundaryErrors('libs/streams/src/probe.ts', code)).toEqual([
      expect.stringMatching(/enforce-module-boundaries/),
    ]);
    expect(boundaryErrors('libs/streams/src/probe.int-spec.ts', code)).toEqual([]);
  });

  it.each(['streams', 'http'])('fails libs/%s reaching libs/persistence (a higher layer)', (lib) => {
    const errors = boundaryErrors(
      `libs/${lib}/src/probe.ts`,
      "import { Database } from '@choreo/persistence';\nexport const d = Database;\n",
    );
    expect(errors).toEqual([expect.stringMatching(/enforce-module-boundaries/)]);
  });

  it('lets a lib import a lower layer (persistence → entities)', () => {
    expect(
      boundaryErrors(
        'libs/persistence/src/probe.ts',
        "import { loadEntities } from '@choreo/entities';\nexport const l = loadEntities;\n",
      ),
    ).toEqual([]);
  });

  it('every lib has exactly one layer tag (see docs/architecture.md)', () => {
    const untagged = readdirSync(path.join(root, 'libs'))
      .filter((lib) => lib !== 'testing')
      .filter((lib) => {
        const { tags } = JSON.parse(readFileSync(path.join(root, 'libs', lib, 'project.json'), 'utf8')) as {
          tags: string[];
        };
        return tags.filter((tag) => tag.startsWith('layer:')).length !== 1;
      });
    expect(untagged).toEqual([]);
  });
});
