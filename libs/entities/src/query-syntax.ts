import type { FieldProblem } from '@choreo/http';
import { SqlValue } from './sql-text';

/** The query string as the HTTP layer hands it over: repeated keys become arrays. */
export type QueryInput = Record<string, string | string[] | undefined>;
/** SQL text under construction: every user value becomes a `$n` parameter. */
export class StatementBuilder {
  readonly values: SqlValue[] = [];
  readonly problems: FieldProblem[] = [];

  param(value: SqlValue | SqlValue[], columnType: string): string {
    this.values.push(value as SqlValue);
    // The base type: numeric(12,2) would round a filter operand before comparing.
    const sqlType = columnType.replace(/\(.*\)$/, '');
    return `$${this.values.length}::${Array.isArray(value) ? `${sqlType}[]` : sqlType}`;
  }
}

/**
 * Splits `a,b,"c,d"` into items; double quotes protect commas and parentheses, a backslash the
 * next character inside quotes. With `nested`, commas inside parentheses do not split either.
 */
export function splitList(text: string, nested = false): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  let wasQuoted = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\' && i + 1 < text.length) current += nested ? ch + text[++i] : text[++i];
      else if (ch === '"') {
        quoted = false;
        if (nested) current += ch;
      } else current += ch;
    } else if (ch === '"') {
      quoted = true;
      wasQuoted = true;
      if (nested) current += ch;
    } else if (nested && (ch === '(' || ch === '{')) {
      depth++;
      current += ch;
    } else if (nested && (ch === ')' || ch === '}')) {
      depth--;
      current += ch;
    } else if (ch === ',' && depth <= 0) {
      items.push(wasQuoted && !nested ? current : current.trim());
      current = '';
      wasQuoted = false;
    } else {
      current += ch;
    }
  }
  items.push(wasQuoted && !nested ? current : current.trim());
  return items;
}

/** `"a,b"` → `a,b` (a backslash keeps the next character); anything else unchanged. */
export function unquote(text: string): string {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return text;
  return text.slice(1, -1).replace(/\\(.)/g, '$1');
}
