/** A reply as the REST specs read it: status, headers and the parsed JSON body (`{}` when empty). */
export interface JsonReply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export type JsonCall = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<JsonReply>;

/** A small fetch wrapper for specs: JSON bodies, default headers (e.g. a bearer token) on every call. */
export function jsonClient(base: string, defaultHeaders: Record<string, string> = {}): JsonCall {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...defaultHeaders, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
}
