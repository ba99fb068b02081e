import { parseDocument } from 'yaml';

/** One thing wrong in a definition file: the file, where in it, and what. */
export interface YamlProblem {
  file: string;
  path: string;
  message: string;
}

/** `['rules', 0, 'window', 'size']` → `rules[0].window.size`. */
export function issuePath(segments: readonly PropertyKey[]): string {
  return segments
    .map((s) => (typeof s === 'number' ? `[${s}]` : String(s)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/**
 * Reads a YAML definition file (entities, aggregation rules): its value, or its syntax errors with
 * line and column. Duplicate keys are errors. `file` is how messages name it.
 */
export function readYamlDefinition(
  text: string,
  file: string,
): { value: unknown } | { problems: YamlProblem[] } {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length === 0) return { value: document.toJS() };
  return {
    problems: document.errors.map((e) => ({
      file,
      path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
      message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''),
    })),
  };
}
