/**
 * The state key of an aggregate value: its group and its window, so a slow connection gets the latest
 * value of each and a snapshot holds every one. Keyed by the window alone, the groups of one window
 * (products per category) would replace each other. A value without either is a plain publication
 * (never coalesced).
 */
export function aggregateStateKey(data: Record<string, unknown>): string | undefined {
  const parts: string[] = [];
  // `key` is the array of group-by values (`[]` without groupBy): JSON keeps ["a,b"] apart from ["a","b"].
  if (Array.isArray(data['key'])) parts.push(JSON.stringify(data['key']));
  for (const name of ['window_start', 'window']) {
    const value = data[name];
    if (typeof value === 'string' || typeof value === 'number') parts.push(String(value));
  }
  return parts.length > 0 ? parts.join('@') : undefined;
}
