import type * as protobuf from 'protobufjs';

/** One HTTP binding of an rpc, from its `google.api.http` option (AIP-127). */
export interface HttpRule {
  /** GET, POST, PUT, PATCH, DELETE, or a custom verb. */
  method: string;
  /** The path template, e.g. `/v1/books/{id}`. */
  path: string;
  /** `*` (the whole request is the body), a field's name (the body is that field), or none. */
  body?: string;
  /** The response field sent as the body instead of the whole response. */
  responseBody?: string;
}

interface HttpOption {
  get?: string;
  put?: string;
  post?: string;
  delete?: string;
  patch?: string;
  custom?: { kind?: string; path?: string };
  body?: string;
  response_body?: string;
  additional_bindings?: HttpOption | HttpOption[];
}

const VERBS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** The HTTP bindings of an rpc, its `additional_bindings` included; none without the option. */
export function httpRulesOf(method: protobuf.Method): HttpRule[] {
  const option = (method.parsedOptions ?? []).find((o: Record<string, unknown>) => '(google.api.http)' in o)?.['(google.api.http)'] as
    HttpOption | undefined;
  if (!option) return [];
  const rules: HttpRule[] = [];
  const add = (o: HttpOption): void => {
    const verb = VERBS.find((v) => typeof o[v] === 'string');
    const rule = verb
      ? { method: verb.toUpperCase(), path: o[verb]! }
      : o.custom?.path
        ? { method: (o.custom.kind ?? '').toUpperCase(), path: o.custom.path }
        : undefined;
    if (rule) rules.push({ ...rule, ...(o.body ? { body: o.body } : {}), ...(o.response_body ? { responseBody: o.response_body } : {}) });
    for (const more of ([] as HttpOption[]).concat(o.additional_bindings ?? [])) add(more);
  };
  add(option);
  return rules;
}
