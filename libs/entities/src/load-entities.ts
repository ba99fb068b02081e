import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { issuePath, readYamlDefinition } from '@choreo/aggregation';
import { ActionableError } from '@choreo/config';
import { entityDefinition } from './definition';
import { FIELD_TYPES } from './field-definition';
import { EntityCatalog, EntityModel, compileEntity } from './entity-model';

/** One thing wrong with a definition file: `entities/product.yaml: fields.price.min: expected number`. */
export interface DefinitionProblem {
  file: string;
  path: string;
  message: string;
}

/** Every problem of every definition file, so one run reports them all. */
export class EntityDefinitionError extends ActionableError {
  constructor(readonly problems: DefinitionProblem[]) {
    super(
      `invalid entity definition${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  ${p.file}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n'),
    );
    this.name = 'EntityDefinitionError';
  }
}

/**
 * Parses and validates one definition. `file` is how messages name it (a path relative to the
 * working directory reads best). Returns the model or the problems.
 */
export function parseEntity(
  text: string,
  file: string,
): { model: EntityModel } | { problems: DefinitionProblem[] } {
  const read = readYamlDefinition(text, file);
  if ('problems' in read) return read;
  const parsed = entityDefinition.safeParse(read.value);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((issue) => ({
        file,
        path: issuePath(issue.path),
        message:
          issue.code === 'invalid_union' && issue.path.at(-1) === 'type'
            ? `expected one of ${FIELD_TYPES.join(', ')}`
            : issue.message.replace(/^Invalid input: /, ''),
      })),
    };
  }
  const expected = path.basename(file).replace(/\.ya?ml$/, '');
  if (parsed.data.name !== expected) {
    return { problems: [{ file, path: 'name', message: `must be '${expected}', the file name` }] };
  }
  return { model: compileEntity(parsed.data, file) };
}

/**
 * Loads every `*.yaml` / `*.yml` of `dir` and validates all of them; throws EntityDefinitionError
 * listing every problem of every file.
 */
export function loadEntities(dir: string): EntityCatalog {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort();
  } catch (error) {
    throw new EntityDefinitionError([
      { file: dir, path: '', message: `cannot read the directory: ${(error as Error).message}` },
    ]);
  }
  const models: EntityModel[] = [];
  const problems: DefinitionProblem[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    const file = path.relative(process.cwd(), full) || full;
    const result = parseEntity(readFileSync(full, 'utf8'), file.startsWith('..') ? full : file);
    if ('problems' in result) problems.push(...result.problems);
    else models.push(result.model);
  }
  if (problems.length > 0) throw new EntityDefinitionError(problems);
  return new EntityCatalog(models);
}
