import { ApiError } from './api-error';

/** PostgREST's `Prefer` preferences that choreo honours (RFC 7240). */
export interface Preferences {
  return?: 'representation' | 'minimal' | 'headers-only';
  count?: 'exact' | 'planned' | 'estimated';
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missing?: 'default' | 'null';
  handling?: 'strict' | 'lenient';
  /** With `handling=strict`: a PATCH or DELETE touching more rows is refused and rolled back. */
  maxAffected?: number;
  /** The preferences as applied, for `Preference-Applied`. */
  applied: string[];
}

const ALLOWED: Record<string, readonly string[]> = {
  return: ['representation', 'minimal', 'headers-only'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
  handling: ['strict', 'lenient'],
};

/**
 * Parses every `Prefer` header (clients send several, or one comma-separated). Unknown or invalid
 * preferences are ignored, as RFC 7240 and PostgREST do, unless `handling=strict`: then a 400.
 */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const preferences: Preferences = { applied: [] };
  const ignored: string[] = [];
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const item of text.split(',')) {
    const token = item.trim();
    if (token === '') continue;
    const [key, value = ''] = token.split('=', 2).map((part) => part.trim());
    if (key === 'max-affected' && /^\d{1,9}$/.test(value)) {
      preferences.maxAffected = Number(value);
      continue;
    }
    if (ALLOWED[key]?.includes(value)) {
      (preferences as unknown as Record<string, string>)[key] = value;
      if (key !== 'handling') preferences.applied.push(`${key}=${value}`);
    } else {
      ignored.push(token);
    }
  }
  if (preferences.handling === 'strict') {
    if (ignored.length > 0)
      throw ApiError.invalid(
        [{ field: 'Prefer', message: `not understood: ${ignored.join(', ')}` }],
        'header',
      );
    preferences.applied.push('handling=strict');
    if (preferences.maxAffected !== undefined)
      preferences.applied.push(`max-affected=${preferences.maxAffected}`);
  } else {
    preferences.maxAffected = undefined;
  }
  return preferences;
}

/** `Range: 0-9` (Range-Unit items) as offset and limit; undefined when absent or not `first-[last]`. */
export function parseRange(header: string | undefined): { offset: number; limit?: number } | undefined {
  const match = /^\s*(?:items=)?(\d{1,9})-(\d{0,9})\s*$/.exec(header ?? '');
  if (!match) return undefined;
  const offset = Number(match[1]);
  if (match[2] === '') return { offset };
  const last = Number(match[2]);
  if (last < offset) return undefined;
  return { offset, limit: last - offset + 1 };
}

/**
 * PostgREST's `Content-Range` and status for `rows` rows from `offset` of `total` (undefined when not
 * counted): `0-9/42` and 206 when the page is not everything, `*` for an empty page, 416 when the
 * offset is past the total.
 */
export function contentRange(
  offset: number,
  rows: number,
  total?: number,
): { status: number; header: string } {
  const last = offset + rows - 1;
  const range = rows > 0 && total !== 0 ? `${offset}-${last}` : '*';
  const header = `${range}/${total ?? '*'}`;
  if (total === undefined) return { status: 200, header };
  if (offset > total) return { status: 416, header };
  return { status: rows < total ? 206 : 200, header };
}

/** PostgREST's media type for one object instead of an array. */
export const SINGLE_OBJECT_TYPE = 'application/vnd.pgrst.object+json';

/** What an `Accept` header asks of a JSON body: an array, one object, with nulls stripped. */
export interface JsonShape {
  singleObject: boolean;
  stripNulls: boolean;
}

/**
 * Reads `Accept`: JSON (`application/json`, PostgREST's array or object types, `*\/*`) or a 406 that
 * says what choreo answers with (it serves no CSV, GeoJSON or plans).
 */
export function acceptedShape(accept: string | undefined): JsonShape {
  if (accept === undefined || accept.trim() === '') return { singleObject: false, stripNulls: false };
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    const stripNulls = params.includes('nulls=stripped');
    if (type === SINGLE_OBJECT_TYPE) return { singleObject: true, stripNulls };
    if (['application/json', 'application/vnd.pgrst.array+json', 'application/*', '*/*'].includes(type))
      return { singleObject: false, stripNulls };
  }
  throw new ApiError(
    406,
    'not_acceptable',
    `cannot answer ${accept}: choreo answers application/json, application/vnd.pgrst.array+json or ${SINGLE_OBJECT_TYPE}`,
  );
}

/**
 * The body for `shape`: the rows, or with the single-object type the one row; otherwise a 406
 * (PostgREST's PGRST116), which the caller raises before committing a write.
 */
export function shapeRows(rows: Record<string, unknown>[], shape: JsonShape): unknown {
  const stripped = shape.stripNulls
    ? rows.map((row) => Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null)))
    : rows;
  if (!shape.singleObject) return stripped;
  if (stripped.length !== 1) throw notOneRow(stripped.length);
  return stripped[0];
}

/** The 406 of a single-object request that matched `rows` rows (PostgREST's PGRST116). */
export function notOneRow(rows: number): ApiError {
  return new ApiError(
    406,
    'not_acceptable',
    `JSON object requested, multiple (or no) rows returned: the result contains ${rows} rows`,
  );
}
